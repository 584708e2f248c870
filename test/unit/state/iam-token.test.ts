import aws4 from 'aws4';
import { describe, expect, it } from 'vitest';
import { elastiCacheIamToken } from '../../../src/state/iam-token.ts';

const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session/token+with=chars' };

/** Signs the same connect request independently (the aws4 package, query signing) at the token's own date. */
function recomputed(token: string): string | undefined {
  const [host, rest] = token.split('/?') as [string, string];
  const query = new URLSearchParams(rest);
  const unsigned = [...query].filter(([k]) => k !== 'X-Amz-Signature' && k !== 'X-Amz-Security-Token');
  const options = {
    host,
    path: `/?${unsigned.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`,
    method: 'GET',
    service: 'elasticache',
    region: 'eu-west-1',
    signQuery: true,
  };
  aws4.sign(options, CREDENTIALS);
  return new URLSearchParams(options.path.split('?')[1]).get('X-Amz-Signature') ?? undefined;
}

describe('the ElastiCache IAM auth token', () => {
  it('is a presigned connect request for the cache and user, valid 15 minutes, whose signature an independent signer reproduces', async () => {
    const token = await elastiCacheIamToken(
      { cacheName: 'firetap-state', region: 'eu-west-1', userId: 'firetap', serverless: true },
      async () => CREDENTIALS,
      new Date('2026-12-08T01:00:00Z'),
    );
    expect(token.startsWith('firetap-state/?')).toBe(true);
    const query = new URLSearchParams(token.split('/?')[1]);
    expect(Object.fromEntries(query)).toMatchObject({
      Action: 'connect',
      User: 'firetap',
      ResourceType: 'ServerlessCache',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'AKIDEXAMPLE/20261208/eu-west-1/elasticache/aws4_request',
      'X-Amz-Date': '20261208T010000Z',
      'X-Amz-Expires': '900',
      'X-Amz-SignedHeaders': 'host',
      'X-Amz-Security-Token': CREDENTIALS.sessionToken,
    });
    expect(query.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(recomputed(token)).toBe(query.get('X-Amz-Signature'));
  });

  it('names no resource type for a node-based replication group', async () => {
    const token = await elastiCacheIamToken({ cacheName: 'firetap-rg', region: 'eu-west-1', userId: 'firetap', serverless: false }, async () => CREDENTIALS);
    expect(new URLSearchParams(token.split('/?')[1]).has('ResourceType')).toBe(false);
  });
});
