-- An idempotent request records each transaction it committed, in that same transaction, so a
-- retry after a crash replays what was done instead of doing it again; `lease` names the attempt
-- that may write, so a slow first attempt cannot commit after a retry has taken over.
ALTER TABLE idempotency_keys ADD COLUMN lease text;
ALTER TABLE idempotency_keys ADD COLUMN steps jsonb NOT NULL DEFAULT '{}'::jsonb;
