-- Open311 read without a key (issue 13): the catalogue marks which categories are
-- public. `public_since` is when a category became public (NULL: private); only
-- items reported after it show their description and photo to the world. Kept in
-- step with the other engine's 0012 (the migration-trees test checks it).
ALTER TABLE demand_categories ADD COLUMN public_since BIGINT;

-- Streets, lights and sanitation are public from now on; care of the elderly,
-- disputes, the epidemic and the rest stay private until an administrator says.
UPDATE demand_categories SET public_since = CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT)
    WHERE code IN ('environment', 'public_facilities', 'urban_management');
