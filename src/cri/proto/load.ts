// The CRI services as grpc-js uses them, from the proto that scripts/cri-proto.mjs turned into protobufjs JSON at
// build time (descriptor.ts): no .proto text is parsed when skiffd starts. The server and our own test client load
// it the same way, so both speak exactly what api.proto says.
//
// @grpc/proto-loader would build the same service definitions, but it also resolves every type up front and makes
// each one's descriptor for reflection, which skiffd never serves: about 60% of its start-up on this machine's
// measure (bench/cri-start.ts). Here each method's message types are looked up the first time a call needs them;
// messages become objects exactly as proto-loader makes them with LOADER_OPTIONS (protobufjs fromObject and
// toObject), which is what its generated types (generated/) describe.
import { makeGenericClientConstructor, type MethodDefinition, type ServiceClientConstructor } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { API_DESCRIPTOR } from './generated/descriptor.js';
import type { ImageServiceClient, ImageServiceDefinition } from './generated/runtime/v1/ImageService.js';
import type { RuntimeServiceClient, RuntimeServiceDefinition } from './generated/runtime/v1/RuntimeService.js';

/**
 * How messages become JavaScript objects: field names as in the proto (snake_case, as the CRI spells them), 64-bit
 * integers as decimal strings (nanosecond times do not fit a double), enums by name, and absent fields as their
 * proto3 defaults. scripts/cri-proto.mjs generates the types with the same options.
 */
export const LOADER_OPTIONS: protobuf.IConversionOptions = { longs: String, enums: String, defaults: true, oneofs: true };

const PACKAGE = 'runtime.v1';

/** A generated client's constructor, with the service definition a server adds. */
interface Service<C, D> {
  new (...args: ConstructorParameters<ServiceClientConstructor>): C;
  service: D;
}

export interface CriPackage {
  RuntimeService: Service<RuntimeServiceClient, RuntimeServiceDefinition>;
  ImageService: Service<ImageServiceClient, ImageServiceDefinition>;
}

/** serialize and deserialize for one message type, made when first used. */
function codec(root: protobuf.Root, typeName: string) {
  let type: protobuf.Type | undefined;
  const resolved = () => (type ??= root.lookupType(`${PACKAGE}.${typeName}`));
  return {
    serialize: (value: object) => Buffer.from(resolved().encode(resolved().fromObject(value)).finish()),
    deserialize: (bytes: Buffer) => resolved().toObject(resolved().decode(bytes), LOADER_OPTIONS),
  };
}

function serviceDefinition(root: protobuf.Root, name: string): Record<string, MethodDefinition<object, object>> {
  const service = root.lookupService(`${PACKAGE}.${name}`);
  const definition: Record<string, MethodDefinition<object, object>> = {};
  for (const m of service.methodsArray) {
    const request = codec(root, m.requestType);
    const response = codec(root, m.responseType);
    definition[m.name] = {
      path: `/${PACKAGE}.${name}/${m.name}`, requestStream: Boolean(m.requestStream), responseStream: Boolean(m.responseStream),
      requestSerialize: request.serialize, requestDeserialize: request.deserialize,
      responseSerialize: response.serialize, responseDeserialize: response.deserialize,
      // The client's lowerCamelCase alias of each method, as proto-loader gives it.
      originalName: m.name[0].toLowerCase() + m.name.slice(1),
    };
  }
  return definition;
}

let loaded: CriPackage | undefined;

/** RuntimeService and ImageService: constructors for clients, `.service` for servers. */
export function criPackage(): CriPackage {
  if (!loaded) {
    // Not Root.fromJSON, which resolves every type at once: fields resolve when their type is first encoded.
    const root = new protobuf.Root().addJSON((API_DESCRIPTOR as protobuf.INamespace).nested!) as protobuf.Root;
    const client = (name: string) => makeGenericClientConstructor(serviceDefinition(root, name), name);
    loaded = { RuntimeService: client('RuntimeService'), ImageService: client('ImageService') } as unknown as CriPackage;
  }
  return loaded;
}
