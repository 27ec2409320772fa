// Credentials cut out of an answer in every form a service may echo them: as sent, JSON-escaped,
// URL-encoded (encodeURIComponent, or a form's + for a space, in either case of hex), and cut short
// at the end of what was kept.

import { describe, expect, it } from 'vitest';
import { credentialRedactor, redactCredentials } from '../../../src/clients/user-service/redaction.js';

const KEY = 'SUPER SECRET=KEY123/+';
const SIGNATURE = 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=';

describe('redactCredentials', () => {
  it.each([
    ['as sent', KEY],
    ['JSON-escaped', 'SUPER SECRET=KEY123\\/+'],
    ['URL-encoded', 'SUPER%20SECRET%3DKEY123%2F%2B'],
    ['URL-encoded, lowercase hex', 'SUPER%20SECRET%3dKEY123%2f%2b'],
    ['form-encoded', 'SUPER+SECRET%3DKEY123%2F%2B'],
  ])('cuts the API key out %s', (_form, echoed) => {
    const text = `{"echo":"${echoed}","after":1}`;

    expect(redactCredentials(text, new Set([KEY]))).toBe('{"echo":"[redacted]","after":1}');
  });

  it('cuts a signature out URL-encoded, and the start of one cut short at the end', () => {
    const encoded = encodeURIComponent(SIGNATURE);
    const text = `sig=${encoded}&again=${encoded.slice(0, 20)}`;

    expect(redactCredentials(text, new Set([SIGNATURE]))).toBe('sig=[redacted]&again=[redacted]');
  });

  it('leaves text without a credential as it is, and ignores credentials too short to be one', () => {
    expect(redactCredentials('no credential here', new Set([KEY, 'abc']))).toBe('no credential here');
    expect(redactCredentials('abc abc', new Set(['abc']))).toBe('abc abc');
  });

  it('one redactor for many texts: the forms made once, the same answers', () => {
    const redact = credentialRedactor(new Set([KEY, SIGNATURE]));

    expect(redact(`a ${encodeURIComponent(KEY)} b`)).toBe('a [redacted] b');
    expect(redact(`x-api-key: ${KEY}`)).toBe('x-api-key: [redacted]');
    expect(redact(SIGNATURE.replaceAll('/', '\\/'))).toBe('[redacted]');
  });
});
