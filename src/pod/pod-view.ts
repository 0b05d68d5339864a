// What a user (or CRI) sees of a pod: its record checked against the live pause. A pod whose pause is gone shows
// as exited, though its record still holds the sandbox for stop or rm to take down.
import { pauseAlive } from './pod-sandbox.js';
import type { PodRecord, PodView } from './pod-types.js';

export async function podView(rec: Readonly<PodRecord>): Promise<PodView> {
  const alive = rec.status === 'running' && (await pauseAlive(rec));
  const status = rec.status === 'running' ? (alive ? 'running' : 'exited') : rec.status === 'removing' ? 'exited' : rec.status;
  const ips = (rec.sandbox?.ips ?? []).map((ip) => ip.split('/')[0]);
  const c = rec.config;
  return {
    id: rec.id, name: rec.name, status, created: rec.created,
    ...(rec.started ? { started: rec.started } : {}), ...(rec.finished ? { finished: rec.finished } : {}),
    labels: c.labels, annotations: c.annotations, ...(c.hostname ? { hostname: c.hostname } : {}),
    network: c.network, ...(ips[0] ? { ip: ips[0] } : {}), additionalIps: ips.slice(1),
    ...(rec.sandbox?.netnsPath ? { netnsPath: rec.sandbox.netnsPath } : {}),
    ...(alive ? { pausePid: rec.sandbox!.pause.pid } : {}),
    share: c.share, containers: rec.containers, cgroupParent: c.cgroupParent,
    // The ports as published: a hostPort left to choose shows the one chosen.
    publish: rec.sandbox?.ports.length ? rec.sandbox.ports : c.publish,
  };
}
