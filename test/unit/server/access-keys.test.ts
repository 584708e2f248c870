import { describe, expect, it } from 'vitest';
import { createAccessKeyCheck } from '../../../src/server/access-keys.ts';
import { parseCommonAttributes, parseSourceArn } from '../../../src/firehose/common-attributes.ts';

describe('access key check', () => {
  const check = createAccessKeyCheck(['old-key', 'new-key']);
  it('accepts any configured key (rotation) and nothing else', () => {
    expect([check('old-key'), check('new-key')]).toEqual([true, true]);
    expect([check('new-ke'), check('new-key '), check(''), check(undefined), check('x'.repeat(4096))]).toEqual([false, false, false, false, false]);
  });
});

describe('common attributes header', () => {
  it('reads the commonAttributes map', () => {
    expect(parseCommonAttributes('{"commonAttributes":{"environment":"testing","application_group":"tymur_test"}}')).toEqual({
      attributes: { environment: 'testing', application_group: 'tymur_test' },
    });
  });
  it('ignores an unreadable header, saying why', () => {
    expect(parseCommonAttributes('{nope')).toMatchObject({ attributes: {}, error: expect.stringContaining('is not JSON') });
    expect(parseCommonAttributes('{"other":{}}')).toMatchObject({ attributes: {}, error: expect.stringContaining('no "commonAttributes" object') });
    expect(parseCommonAttributes(undefined)).toEqual({ attributes: {} });
  });
});

describe('source ARN', () => {
  it('yields the delivery stream region and account', () => {
    expect(parseSourceArn('arn:aws:firehose:us-east-2:123456789012:deliverystream/s')).toEqual({ region: 'us-east-2', account: '123456789012' });
    expect(parseSourceArn('arn:aws-cn:firehose:cn-north-1:123456789012:deliverystream/s')?.region).toBe('cn-north-1');
    expect(parseSourceArn('not an arn')).toBeUndefined();
  });
});
