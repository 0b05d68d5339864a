// docker attach: a client of the container's monitor (docs/monitor.md): its output from now on, its stdin when it
// was created with -i, its terminal size; `done` settles with the container's exit.
import { SkiffError } from '../common/errors.js';
import { attach, type AttachStreams, type Attachment } from '../runtime/monitor-client.js';
import type { EngineContext } from './context.js';
import { current } from './container-stop.js';

export async function attachContainer(ctx: EngineContext, id: string, streams: AttachStreams): Promise<Attachment> {
  const rec = await current(ctx, id);
  if (rec.state.status !== 'running') throw new SkiffError(`You cannot attach to a stopped container, start it first`, 'EINVAL');
  if (streams.stdin && !rec.config.openStdin) throw new SkiffError(`container ${rec.name} was not created with -i: its stdin is closed`, 'EINVAL');
  return attach(ctx.paths.attachSocket(id), streams);
}
