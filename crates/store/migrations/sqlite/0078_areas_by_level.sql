-- The grids under an area counted from an index alone
-- (../postgres/0078_areas_by_level.sql says why).
CREATE INDEX areas_level ON areas(level, path);
