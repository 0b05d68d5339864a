// The CRI services and messages as grpc-js uses them, from the proto that scripts/cri-proto.mjs turned into
// protobufjs JSON at build time (descriptor.ts): no .proto text is parsed when skiffd starts. The server and our
// own test client load it the same way, so both speak exactly what api.proto says.
import { loadPackageDefinition } from '@grpc/grpc-js';
import { fromJSON, type Options } from '@grpc/proto-loader';
import type { ProtoGrpcType } from './generated/api.js';
import { API_DESCRIPTOR } from './generated/descriptor.js';

/**
 * How messages become JavaScript objects: field names as in the proto (snake_case, as the CRI spells them), 64-bit
 * integers as decimal strings (nanosecond times do not fit a double), enums by name, and absent fields as their
 * proto3 defaults. scripts/cri-proto.mjs generates the types with the same options.
 */
export const LOADER_OPTIONS: Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

export type CriPackage = ProtoGrpcType['runtime']['v1'];

let loaded: CriPackage | undefined;

/** The runtime.v1 package: RuntimeService and ImageService (constructors for clients, `.service` for servers). */
export function criPackage(): CriPackage {
  loaded ??= (loadPackageDefinition(fromJSON(API_DESCRIPTOR, LOADER_OPTIONS)) as unknown as ProtoGrpcType).runtime.v1;
  return loaded;
}
