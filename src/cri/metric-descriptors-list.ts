// ListMetricDescriptors: skiff exports no metrics of its own through the CRI. The kubelet 1.26 asks only under the
// alpha PodAndContainerStatsFromCRI gate; the answer is containerd 1.7's: UNIMPLEMENTED, "method
// ListMetricDescriptors not implemented".
import { status } from '@grpc/grpc-js';
import { CriError } from './grpc-error.js';

export async function metricDescriptorsList(): Promise<never> {
  throw new CriError(status.UNIMPLEMENTED, 'method ListMetricDescriptors not implemented');
}
