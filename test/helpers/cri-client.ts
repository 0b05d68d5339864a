// Our own CRI client for tests: grpc-js with the same proto skiffd serves (src/cri/proto/load.ts), each call a
// promise of its response, a failure a ServiceError with its gRPC status code.
import { credentials, type ServiceError } from '@grpc/grpc-js';
import { criPackage } from '../../src/cri/proto/load.js';
import type { ImageServiceClient } from '../../src/cri/proto/generated/runtime/v1/ImageService.js';
import type { RuntimeServiceClient } from '../../src/cri/proto/generated/runtime/v1/RuntimeService.js';

type Callback<Res> = (err: ServiceError | null, res?: Res) => void;
/** The unary methods of a generated client, as promises (the PascalCase names, as the proto spells them). */
type Promised<C> = {
  [K in keyof C as K extends `${Uppercase<string & K>[0]}${string}` ? K : never]: C[K] extends {
    (argument: infer Req, callback: Callback<infer Res>): unknown;
  } ? (req: Req) => Promise<Res> : never;
};

function promised<C extends object>(client: C): Promised<C> {
  return new Proxy({} as Promised<C>, {
    get: (_t, method: string) => (req: unknown) => new Promise((resolve, reject) => {
      (client as Record<string, (r: unknown, cb: Callback<unknown>) => void>)[method](req, (err, res) => (err ? reject(err) : resolve(res)));
    }),
  });
}

export interface CriClient {
  runtime: Promised<RuntimeServiceClient>;
  image: Promised<ImageServiceClient>;
  /** The generated client itself, for streaming calls. */
  rawRuntime: RuntimeServiceClient;
  close(): void;
}

/** A client of the server at `socket` (a path). */
export function criClient(socket: string): CriClient {
  const cri = criPackage();
  const target = `unix://${socket}`;
  const runtime = new cri.RuntimeService(target, credentials.createInsecure());
  const image = new cri.ImageService(target, credentials.createInsecure());
  return { runtime: promised(runtime), image: promised(image), rawRuntime: runtime, close: () => { runtime.close(); image.close(); } };
}

/** Stops and removes every pod the server lists, then closes the client: a test's cleanup, so errors are ignored. */
export async function removePodsAndClose(cri: CriClient | undefined): Promise<void> {
  for (const pod of (await cri?.runtime.ListPodSandbox({}).catch(() => ({ items: [] })))?.items ?? []) {
    await cri!.runtime.StopPodSandbox({ pod_sandbox_id: pod.id! }).catch(() => {});
    await cri!.runtime.RemovePodSandbox({ pod_sandbox_id: pod.id! }).catch(() => {});
  }
  cri?.close();
}
