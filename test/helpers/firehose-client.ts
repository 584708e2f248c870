/**
 * Sends a Firehose request the way Firehose does: the same request id on every attempt, retried on any
 * answer but 200 with exponential backoff and jitter, until it is acknowledged or the retry duration
 * runs out. Scaled down in time for tests.
 */
export interface FirehoseSendResult {
  acknowledged: boolean;
  attempts: number;
  statuses: number[];
}

export async function sendLikeFirehose(
  post: (requestId: string, body: string) => Promise<{ statusCode: number }>,
  requestId: string,
  body: string,
  opts: { baseDelayMs?: number; maxDelayMs?: number; retryDurationMs?: number } = {},
): Promise<FirehoseSendResult> {
  const base = opts.baseDelayMs ?? 20;
  const max = opts.maxDelayMs ?? 400;
  const until = Date.now() + (opts.retryDurationMs ?? 20_000);
  const statuses: number[] = [];
  for (let attempt = 0; ; attempt++) {
    let status: number;
    try {
      status = (await post(requestId, body)).statusCode;
    } catch {
      status = 0; // connection refused or reset
    }
    statuses.push(status);
    if (status === 200) return { acknowledged: true, attempts: attempt + 1, statuses };
    if (status === 413 || Date.now() > until) return { acknowledged: false, attempts: attempt + 1, statuses };
    const delay = Math.min(max, base * 2 ** attempt) * (0.5 + Math.random() / 2);
    await new Promise((r) => setTimeout(r, delay));
  }
}
