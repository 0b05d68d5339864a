// Version: who we are. The kubelet only checks runtime_api_version ("v1" for the runtime.v1 package); `version`
// is the CRI's own version string, which containerd and CRI-O answer as 0.1.0 too.
import { SKIFF_VERSION } from '../common/version.js';
import type { VersionResponse } from './proto/generated/runtime/v1/VersionResponse.js';

export async function runtimeVersion(): Promise<VersionResponse> {
  return { version: '0.1.0', runtime_name: 'skiff', runtime_version: SKIFF_VERSION, runtime_api_version: 'v1' };
}
