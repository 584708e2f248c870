import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import aws4 from 'aws4';
import { afterAll, beforeAll } from 'vitest';

/** The static credentials the SigV4 tests put in the environment (AWS's documented example keys). */
export const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session-token-example' };

/** Puts CREDENTIALS in the environment for the file's tests (the default credential chain reads them) and restores it after. */
export function useTestCredentials(): void {
  const saved: Record<string, string | undefined> = {};
  beforeAll(() => {
    for (const [name, value] of [
      ['AWS_ACCESS_KEY_ID', CREDENTIALS.accessKeyId],
      ['AWS_SECRET_ACCESS_KEY', CREDENTIALS.secretAccessKey],
      ['AWS_SESSION_TOKEN', CREDENTIALS.sessionToken],
    ] as const) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
  });
  afterAll(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
}

/** A request as a loopback server received it. */
export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Recomputes the request's signature with the aws4 package from what the server received: the signed
 * headers' values as they arrived, the body's own hash (not the header's claim) and the body's bytes.
 */
export function verifies(request: Received, region: string, service: string): boolean {
  const auth = /^AWS4-HMAC-SHA256 Credential=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(String(request.headers.authorization));
  if (!auth) return false;
  const signedNames = auth[2]!.split(';');
  const headers: Record<string, string> = {};
  for (const name of signedNames) headers[name] = String(request.headers[name] ?? '');
  if ('x-amz-content-sha256' in headers) headers['x-amz-content-sha256'] = createHash('sha256').update(request.body).digest('hex');
  const ignore: Record<string, boolean> = {};
  for (const name of ['content-length', 'content-type', 'x-amz-security-token']) if (!signedNames.includes(name)) ignore[name] = true;
  const options = {
    host: headers.host,
    path: request.path,
    method: request.method,
    headers,
    body: request.body,
    region,
    service,
    extraHeadersToIgnore: ignore,
  };
  aws4.sign(options, CREDENTIALS);
  const recomputed = /Signature=([0-9a-f]{64})/.exec(String(options.headers.Authorization ?? options.headers.authorization))?.[1];
  return auth[1] === `${CREDENTIALS.accessKeyId}/${headers['x-amz-date']!.slice(0, 8)}/${region}/${service}/aws4_request` && recomputed === auth[3];
}
