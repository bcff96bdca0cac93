import { corrupt } from './errors.ts';

const CHUNK = 0x8000; // String.fromCharCode takes its bytes as arguments: stay far below the engine's limit

/** Standard base64 (with padding) of any number of bytes. */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.byteLength; i += CHUNK) binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(binary);
}

/** The bytes of standard base64; Corrupt for text that is not base64 (`what` names it). */
export function fromBase64(text: string, what: string): Uint8Array {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    throw corrupt(`${what} is not base64.`);
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
