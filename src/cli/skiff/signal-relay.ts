// docker run's --sig-proxy, for skiff run: from the start of a run, the signals that would end skiff are caught,
// so that it always gets to remove what it made. Before the container is being made, the first one interrupts the
// run (what was made is undone; exit 128+N). From then on each one is passed on to the container's process (those
// that come while it is being made, once it exists) and skiff goes on waiting for it to exit. A container that
// ignores the signal runs on, as under docker: PID 1 of a PID namespace receives only the signals it has a handler
// for (pid_namespaces(7)); the next one is passed on too.
import { constants } from 'node:os';
import { SkiffError } from '../../common/errors.js';

/**
 * The signals whose default action ends a process (signal(7)) and that Node lets a program catch. Not here:
 * SIGKILL and SIGSTOP (nobody can catch them), the faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP,
 * SIGSYS), SIGPROF (V8's sampling profiler uses it), SIGPIPE (Node ignores it), and the real-time signals, which
 * Node has no names for and so cannot catch.
 */
const RELAYED: readonly NodeJS.Signals[] = [
  'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGVTALRM', 'SIGXCPU', 'SIGXFSZ',
  'SIGPWR', 'SIGSTKFLT', 'SIGIO',
];

/** Passes a signal on to the container's process. */
export type RelayTarget = (signal: NodeJS.Signals) => void;

/** A run that a signal stopped before the container's process existed; skiff exits as if killed by it. */
export class Interrupted extends SkiffError {
  readonly exitStatus: number;

  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal} before the container started`, 'EINTR');
    this.exitStatus = 128 + constants.signals[signal];
  }
}

export class SignalRelay {
  /** The first signal that came before the container was being made. */
  private interrupted?: NodeJS.Signals;
  private target?: RelayTarget;
  /** Signals that came while the container was being made: its process may run already, so they are its. */
  private held?: NodeJS.Signals[];
  private onInterrupt?: (signal: NodeJS.Signals) => void;
  private readonly listeners: [NodeJS.Signals, () => void][] = [];

  constructor() {
    for (const signal of RELAYED) {
      const listener = () => this.receive(signal);
      process.on(signal, listener);
      this.listeners.push([signal, listener]);
    }
  }

  /** The container is being made: signals from now on are kept for it, not taken as an interruption. */
  hold(): void {
    this.held = [];
  }

  /** From now on signals go to the container, first those kept while it was being made. */
  attach(target: RelayTarget): void {
    this.target = target;
    for (const signal of this.held ?? []) target(signal);
    this.held = undefined;
  }

  /**
   * While a step runs that cannot be stopped half-way, `handler` hears of an interrupting signal at once, instead
   * of the run stopping after the step. Returns the function that ends this.
   */
  interruptWith(handler: (signal: NodeJS.Signals) => void): () => void {
    if (this.interrupted) handler(this.interrupted);
    this.onInterrupt = handler;
    return () => {
      this.onInterrupt = undefined;
    };
  }

  /** Called between the steps before the container starts. */
  throwIfInterrupted(): void {
    if (this.interrupted) throw new Interrupted(this.interrupted);
  }

  /** Gives the signals back to their default actions. */
  stop(): void {
    for (const [signal, listener] of this.listeners) process.removeListener(signal, listener);
    this.listeners.length = 0;
  }

  private receive(signal: NodeJS.Signals): void {
    if (this.target) {
      this.target(signal);
    } else if (this.held) {
      this.held.push(signal);
    } else if (!this.interrupted) {
      this.interrupted = signal;
      this.onInterrupt?.(signal);
    }
  }
}
