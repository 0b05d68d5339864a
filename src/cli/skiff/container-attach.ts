// Our terminal attached to a container through its monitor (skiff run in the foreground, start -a, attach): its
// output on our stdout and stderr, our stdin to it with -i, and with -t our terminal raw and its size followed,
// restored however the attachment ends.
import type { Engine } from '../../engine/engine.js';
import type { Attachment, MonitorExit } from '../../runtime/monitor-client.js';

export interface AttachOptions {
  stdin: boolean;
  tty: boolean;
}

export interface AttachedTerminal {
  /** Settles when the attachment ends: the container's exit, or undefined if it was cut off. */
  done: Promise<MonitorExit | undefined>;
  attachment: Attachment;
}

/** Resolves once the monitor has registered us: from then on no output is missed. */
export async function attachTerminal(engine: Engine, id: string, o: AttachOptions): Promise<AttachedTerminal> {
  const raw = o.tty && o.stdin && process.stdin.isTTY;
  const attachment = await engine.attach(id, {
    stdin: o.stdin ? process.stdin : undefined, stdout: process.stdout, stderr: process.stderr, closeStdinAtEnd: true,
  });
  if (raw) process.stdin.setRawMode(true);
  const resize = () => {
    if (process.stdout.isTTY) attachment.resize(process.stdout.rows, process.stdout.columns);
  };
  if (o.tty) {
    resize();
    process.stdout.on('resize', resize);
  }
  const done = attachment.done.finally(() => {
    process.stdout.off('resize', resize);
    if (raw) process.stdin.setRawMode(false);
    // Our stdin would keep the process alive after the container is gone.
    if (o.stdin) process.stdin.destroy();
  });
  return { done, attachment };
}
