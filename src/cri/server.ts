// The gRPC server: RuntimeService and ImageService, each RPC bound to its handler (one file per call). The binding
// is the only place handlers meet grpc-js: it passes the request in, sends the response or the error's status back
// (grpc-error.ts), and logs the call.
import { Server, status, type handleUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { containerAttach } from './container-attach.js';
import { containerCheckpoint } from './container-checkpoint.js';
import { containerExec } from './container-exec.js';
import type { CriContext } from './context.js';
import { toServiceError } from './grpc-error.js';
import { imageFsInfo } from './image-fs-info.js';
import { imageList } from './image-list.js';
import { imagePull } from './image-pull.js';
import { imageRemove } from './image-remove.js';
import { imageStatus } from './image-status.js';
import { metricDescriptorsList } from './metric-descriptors-list.js';
import { containerCreate } from './container-create.js';
import { containerEventsGet } from './container-events-get.js';
import { containerExecSync } from './container-exec-sync.js';
import { containerList } from './container-list.js';
import { containerLogReopen } from './container-log-reopen.js';
import { containerRemove } from './container-remove.js';
import { containerStart } from './container-start.js';
import { containerStats, containerStatsList } from './container-stats.js';
import { containerStatus } from './container-status.js';
import { containerStop } from './container-stop.js';
import { containerUpdate } from './container-update.js';
import { sandboxList } from './sandbox-list.js';
import { sandboxRemove } from './sandbox-remove.js';
import { sandboxRun } from './sandbox-run.js';
import { sandboxStats, sandboxStatsList } from './sandbox-stats.js';
import { sandboxStatus } from './sandbox-status.js';
import { sandboxStop } from './sandbox-stop.js';
import { criPackage } from './proto/load.js';
import type { ImageServiceHandlers } from './proto/generated/runtime/v1/ImageService.js';
import type { RuntimeServiceHandlers } from './proto/generated/runtime/v1/RuntimeService.js';
import { runtimeConfigUpdate } from './runtime-config-update.js';
import { runtimeStatus } from './runtime-status.js';
import { runtimeVersion } from './runtime-version.js';
import { sandboxMetricsList } from './sandbox-metrics-list.js';
import { sandboxPortForward } from './sandbox-port-forward.js';

type Handler<Req, Res> = (ctx: CriContext, req: Req) => Promise<Res>;

/** The kubelet's own limit for CRI messages (16 MiB), both ways (containerd sets the same). */
const MAX_MESSAGE = 16 * 1024 * 1024;

/** Statuses that answer a request as the API means them, not failures of skiffd: logged at debug level only. */
const EXPECTED: ReadonlySet<status> = new Set([status.NOT_FOUND, status.INVALID_ARGUMENT, status.UNIMPLEMENTED]);

function unary<Req, Res>(ctx: CriContext, method: string, handler: Handler<Req, Res>): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const started = performance.now();
    handler(ctx, call.request).then(
      (res) => {
        ctx.log.debug({ method, ms: Math.round(performance.now() - started) }, 'call');
        callback(null, res);
      },
      (err: unknown) => {
        const e = toServiceError(err);
        ctx.log[EXPECTED.has(e.code!) ? 'debug' : 'error']({ method, code: status[e.code!], err: e.details }, 'call failed');
        callback(e as ServiceError, null);
      },
    );
  };
}


export function runtimeHandlers(ctx: CriContext): RuntimeServiceHandlers {
  return {
    Version: unary(ctx, 'Version', runtimeVersion),
    Status: unary(ctx, 'Status', runtimeStatus),
    UpdateRuntimeConfig: unary(ctx, 'UpdateRuntimeConfig', runtimeConfigUpdate),
    Exec: unary(ctx, 'Exec', containerExec),
    Attach: unary(ctx, 'Attach', containerAttach),
    PortForward: unary(ctx, 'PortForward', sandboxPortForward),
    CheckpointContainer: unary(ctx, 'CheckpointContainer', containerCheckpoint),
    ListMetricDescriptors: unary(ctx, 'ListMetricDescriptors', metricDescriptorsList),
    ListPodSandboxMetrics: unary(ctx, 'ListPodSandboxMetrics', sandboxMetricsList),
    RunPodSandbox: unary(ctx, 'RunPodSandbox', sandboxRun),
    StopPodSandbox: unary(ctx, 'StopPodSandbox', sandboxStop),
    RemovePodSandbox: unary(ctx, 'RemovePodSandbox', sandboxRemove),
    PodSandboxStatus: unary(ctx, 'PodSandboxStatus', sandboxStatus),
    ListPodSandbox: unary(ctx, 'ListPodSandbox', sandboxList),
    CreateContainer: unary(ctx, 'CreateContainer', containerCreate),
    StartContainer: unary(ctx, 'StartContainer', containerStart),
    StopContainer: unary(ctx, 'StopContainer', containerStop),
    RemoveContainer: unary(ctx, 'RemoveContainer', containerRemove),
    ListContainers: unary(ctx, 'ListContainers', containerList),
    ContainerStatus: unary(ctx, 'ContainerStatus', containerStatus),
    UpdateContainerResources: unary(ctx, 'UpdateContainerResources', containerUpdate),
    ReopenContainerLog: unary(ctx, 'ReopenContainerLog', containerLogReopen),
    ExecSync: unary(ctx, 'ExecSync', containerExecSync),
    ContainerStats: unary(ctx, 'ContainerStats', containerStats),
    ListContainerStats: unary(ctx, 'ListContainerStats', containerStatsList),
    PodSandboxStats: unary(ctx, 'PodSandboxStats', sandboxStats),
    ListPodSandboxStats: unary(ctx, 'ListPodSandboxStats', sandboxStatsList),
    GetContainerEvents: (call) => containerEventsGet(ctx, call),
  };
}

export function imageHandlers(ctx: CriContext): ImageServiceHandlers {
  return {
    ListImages: unary(ctx, 'ListImages', imageList),
    ImageStatus: unary(ctx, 'ImageStatus', imageStatus),
    PullImage: unary(ctx, 'PullImage', imagePull),
    RemoveImage: unary(ctx, 'RemoveImage', imageRemove),
    ImageFsInfo: unary(ctx, 'ImageFsInfo', imageFsInfo),
  };
}

export function createCriServer(ctx: CriContext): Server {
  const server = new Server({ 'grpc.max_receive_message_length': MAX_MESSAGE, 'grpc.max_send_message_length': MAX_MESSAGE });
  const cri = criPackage();
  server.addService(cri.RuntimeService.service, runtimeHandlers(ctx));
  server.addService(cri.ImageService.service, imageHandlers(ctx));
  return server;
}
