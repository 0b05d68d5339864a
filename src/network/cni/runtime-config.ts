/** CONVENTIONS.md "Well-known Capabilities": what the runtime fills into runtimeConfig for plugins that ask. */
export interface RuntimeConfig {
  portMappings?: { hostPort: number; containerPort: number; protocol: 'tcp' | 'udp' | 'sctp'; hostIP?: string }[];
  bandwidth?: { ingressRate?: number; ingressBurst?: number; egressRate?: number; egressBurst?: number };
  /** Static addresses with prefix, e.g. "10.89.0.5/16" (host-local honours them). */
  ips?: string[];
  mac?: string;
  dns?: { servers?: string[]; searches?: string[]; options?: string[] };
  cgroupPath?: string;
  [capability: string]: unknown;
}
