-- A rematch (004) changes an image's vulnerabilities and verdict, never its inventory: its package rows are those of
-- the scan that was analysed, not a copy per advisory-DB build (the copies were about 200 rows and 30 kB per image
-- per rematch, and most of a rematch's writing). `inventory_of` names that scan; null: the scan's own rows.
-- `scan_inventory` gives every scan's packages either way: search by package goes through it.
ALTER TABLE scans ADD COLUMN inventory_of bigint REFERENCES scans (id);
CREATE INDEX scans_inventory_of ON scans (inventory_of) WHERE inventory_of IS NOT NULL;

CREATE VIEW scan_inventory AS
  SELECT s.id AS scan_id, p.name, p.version, p.type, p.purl, p.layer
    FROM scans s JOIN scan_packages p ON p.scan_id = COALESCE(s.inventory_of, s.id)
   WHERE s.status = 'done';
