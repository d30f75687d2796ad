-- A webhook's signature scheme: 'hmac-sha256' (Standard Webhooks v1, a
-- shared secret) or 'ed25519' (v1a, the receiver holds the public key only).
-- The secret columns hold either kind, sealed; its own prefix (whsec_ or
-- whsk_) tells a signer which it is, so a key kept signing through a switch
-- of scheme still signs in its own.
ALTER TABLE webhooks ADD COLUMN signing TEXT NOT NULL DEFAULT 'hmac-sha256' CHECK (signing IN ('hmac-sha256', 'ed25519'));
