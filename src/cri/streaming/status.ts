// The exit status a client reads on the error stream (k8s.io/apimachinery metav1.Status as JSON), which the
// remote-command protocol v4 and later speak: Success, or Failure with reason NonZeroExitCode and the code as an
// ExitCode cause, or Failure with reason InternalError when the command could not run. Protocols before v4 carry
// only the message of a failure as text, and nothing on success.
export interface KubeStatus {
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { causes: { reason?: string; message: string }[] };
  code?: number;
}

export function successStatus(): KubeStatus {
  return { metadata: {}, status: 'Success' };
}

export function exitCodeStatus(code: number, cmd: string[]): KubeStatus {
  return {
    metadata: {}, status: 'Failure', reason: 'NonZeroExitCode',
    message: `command terminated with non-zero exit code: error executing command ${JSON.stringify(cmd)}, exit code ${code}`,
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

/** apierrors.NewInternalError's shape: HTTP 500, the cause's message in the causes. */
export function internalErrorStatus(message: string): KubeStatus {
  return { metadata: {}, status: 'Failure', message: `Internal error occurred: ${message}`, reason: 'InternalError', details: { causes: [{ message }] }, code: 500 };
}

/** What goes on the error stream for `protocol`'s version: v4 and later JSON; older ones a failure's message. */
export function encodeStatus(s: KubeStatus, jsonStatus: boolean): Buffer | undefined {
  if (jsonStatus) return Buffer.from(JSON.stringify(s));
  return s.status === 'Success' ? undefined : Buffer.from(s.message ?? '');
}
