/** Firehose's limit on errorMessage. */
export const MAX_ERROR_MESSAGE_CHARS = 8192;

export interface FirehoseResponse {
  requestId: string;
  timestamp: number;
  errorMessage?: string;
}

/** The response body Firehose expects (protocol 1.0): request id echoed, timestamp in milliseconds. */
export function firehoseResponse(requestId: string, errorMessage?: string): FirehoseResponse {
  const body: FirehoseResponse = { requestId, timestamp: Date.now() };
  if (errorMessage !== undefined) {
    body.errorMessage = errorMessage.length > MAX_ERROR_MESSAGE_CHARS ? `${errorMessage.slice(0, MAX_ERROR_MESSAGE_CHARS - 1)}…` : errorMessage;
  }
  return body;
}
