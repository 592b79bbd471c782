-- The ledger's own word for a person's relation to the household head (子, 女, 儿媳,
-- 孙女…) beside the normalised code in `relation` (child, child_in_law, grandchild):
-- an import keeps it and an export writes it back, so a community's ledger reads as
-- it did. NULL when the word is the code's own label or the relation was set by hand.
ALTER TABLE residents ADD COLUMN relation_term TEXT;
