// PortForward: a single-use URL of the streaming server (streaming/server.ts), where the client then reaches ports
// of the pod's network namespace. The connections run through the streaming backend.
import type { CriContext } from './context.js';
import { pendingCall } from './pending.js';
import type { PortForwardRequest__Output } from './proto/generated/runtime/v1/PortForwardRequest.js';
import type { PortForwardResponse } from './proto/generated/runtime/v1/PortForwardResponse.js';

export async function sandboxPortForward(ctx: CriContext, req: PortForwardRequest__Output): Promise<PortForwardResponse> {
  if (!ctx.streaming) throw pendingCall('PortForward');
  return { url: ctx.streaming.portForwardUrl(req) };
}
