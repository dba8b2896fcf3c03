-- A rematch also records a vulnerability that still applies but whose severity or fix changed (an advisory
-- revised: a CVSS score published, a fix released): change 'changed', with the severity and fix it had before.
ALTER TABLE scan_change_items DROP CONSTRAINT scan_change_items_change_check;
ALTER TABLE scan_change_items ADD CONSTRAINT scan_change_items_change_check CHECK (change IN ('added', 'removed', 'changed'));
ALTER TABLE scan_change_items ADD COLUMN previous_severity text;
ALTER TABLE scan_change_items ADD COLUMN previous_fixed_version text;
ALTER TABLE scan_changes ADD COLUMN changed integer NOT NULL DEFAULT 0;
