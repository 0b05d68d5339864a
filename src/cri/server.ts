// The gRPC server: RuntimeService and ImageService, each RPC bound to its handler (one file per call). The binding
// is the only place handlers meet grpc-js: it passes the request in, sends the response or the error's status back
// (grpc-error.ts), and logs the call.
import { Server, status, type handleServerStreamingCall, type handleUnaryCall, type ServiceError } from '@grpc/grpc-js';
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
import { pendingCall } from './pending.js';
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

function pending<Req, Res>(ctx: CriContext, method: string): handleUnaryCall<Req, Res> {
  return unary<Req, Res>(ctx, method, async () => {
    throw pendingCall(method);
  });
}

function pendingStream<Req, Res>(method: string): handleServerStreamingCall<Req, Res> {
  return (call) => call.emit('error', toServiceError(pendingCall(method)));
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
    RunPodSandbox: pending(ctx, 'RunPodSandbox'),
    StopPodSandbox: pending(ctx, 'StopPodSandbox'),
    RemovePodSandbox: pending(ctx, 'RemovePodSandbox'),
    PodSandboxStatus: pending(ctx, 'PodSandboxStatus'),
    ListPodSandbox: pending(ctx, 'ListPodSandbox'),
    CreateContainer: pending(ctx, 'CreateContainer'),
    StartContainer: pending(ctx, 'StartContainer'),
    StopContainer: pending(ctx, 'StopContainer'),
    RemoveContainer: pending(ctx, 'RemoveContainer'),
    ListContainers: pending(ctx, 'ListContainers'),
    ContainerStatus: pending(ctx, 'ContainerStatus'),
    UpdateContainerResources: pending(ctx, 'UpdateContainerResources'),
    ReopenContainerLog: pending(ctx, 'ReopenContainerLog'),
    ExecSync: pending(ctx, 'ExecSync'),
    ContainerStats: pending(ctx, 'ContainerStats'),
    ListContainerStats: pending(ctx, 'ListContainerStats'),
    PodSandboxStats: pending(ctx, 'PodSandboxStats'),
    ListPodSandboxStats: pending(ctx, 'ListPodSandboxStats'),
    GetContainerEvents: pendingStream('GetContainerEvents'),
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
