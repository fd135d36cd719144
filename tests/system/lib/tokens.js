// Tokens for black-box tests, signed by the independent `jose` library with
// the auth service's own key (read from the stack's state directory), so a test
// can act as many users without registering each one.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import * as jose from 'jose';
import { urls, varDir } from './stack.js';

let signingKey;
let kid;

export const issuer = process.env.JWT_ISSUER || urls.auth;
export const audience = process.env.JWT_AUDIENCE || 'craftista';

async function authKey() {
  if (!signingKey) {
    signingKey = crypto.createPrivateKey(fs.readFileSync(path.join(varDir, 'keys', 'private.pem')));
    const res = await fetch(`${urls.auth}/.well-known/jwks.json`);
    kid = (await res.json()).keys[0].kid;
  }
  return { key: signingKey, kid };
}

/** A token for `sub` as auth would issue it; `claims`/`header` override fields. */
export async function tokenFor(sub, { role = 'user', claims = {}, header = {}, key, ttl = 600 } = {}) {
  const k = key ? { key, kid: header.kid } : await authKey();
  const now = Math.floor(Date.now() / 1000);
  return new jose.SignJWT({ role, ...claims })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: k.kid, ...header })
    .setSubject(sub)
    .setIssuer(claims.iss ?? issuer)
    .setAudience(claims.aud ?? audience)
    .setIssuedAt(now)
    .setExpirationTime(now + ttl)
    .setJti(crypto.randomUUID())
    .sign(k.key);
}
