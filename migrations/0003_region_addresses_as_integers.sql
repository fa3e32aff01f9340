-- Region addresses from hex text to integers: up to 13 hex digits (below 2^52) exactly; longer ones (above what a JS
-- number holds exactly) as text, 0x and the digits, as the writer stores them.
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_regions` (
	`id` integer PRIMARY KEY NOT NULL,
	`sample_id` integer NOT NULL,
	`kind` text NOT NULL,
	`start` integer NOT NULL,
	`end` integer NOT NULL,
	`type` text NOT NULL,
	`protection` text NOT NULL,
	`size` integer NOT NULL,
	`committed` integer NOT NULL,
	`total_ws` integer,
	`private_ws` integer,
	`details` text NOT NULL,
	FOREIGN KEY (`sample_id`) REFERENCES `samples`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_regions`("id", "sample_id", "kind", "start", "end", "type", "protection", "size", "committed", "total_ws", "private_ws", "details") SELECT "id", "sample_id", "kind",
  CASE WHEN length("start") <= 13 THEN ((instr('0123456789abcdef', substr(lower("start"), -1, 1)) - 1) << 0) + ((instr('0123456789abcdef', substr(lower("start"), -2, 1)) - 1) << 4) + ((instr('0123456789abcdef', substr(lower("start"), -3, 1)) - 1) << 8) + ((instr('0123456789abcdef', substr(lower("start"), -4, 1)) - 1) << 12) + ((instr('0123456789abcdef', substr(lower("start"), -5, 1)) - 1) << 16) + ((instr('0123456789abcdef', substr(lower("start"), -6, 1)) - 1) << 20) + ((instr('0123456789abcdef', substr(lower("start"), -7, 1)) - 1) << 24) + ((instr('0123456789abcdef', substr(lower("start"), -8, 1)) - 1) << 28) + ((instr('0123456789abcdef', substr(lower("start"), -9, 1)) - 1) << 32) + ((instr('0123456789abcdef', substr(lower("start"), -10, 1)) - 1) << 36) + ((instr('0123456789abcdef', substr(lower("start"), -11, 1)) - 1) << 40) + ((instr('0123456789abcdef', substr(lower("start"), -12, 1)) - 1) << 44) + ((instr('0123456789abcdef', substr(lower("start"), -13, 1)) - 1) << 48) ELSE '0x' || lower("start") END,
  CASE WHEN length("end") <= 13 THEN ((instr('0123456789abcdef', substr(lower("end"), -1, 1)) - 1) << 0) + ((instr('0123456789abcdef', substr(lower("end"), -2, 1)) - 1) << 4) + ((instr('0123456789abcdef', substr(lower("end"), -3, 1)) - 1) << 8) + ((instr('0123456789abcdef', substr(lower("end"), -4, 1)) - 1) << 12) + ((instr('0123456789abcdef', substr(lower("end"), -5, 1)) - 1) << 16) + ((instr('0123456789abcdef', substr(lower("end"), -6, 1)) - 1) << 20) + ((instr('0123456789abcdef', substr(lower("end"), -7, 1)) - 1) << 24) + ((instr('0123456789abcdef', substr(lower("end"), -8, 1)) - 1) << 28) + ((instr('0123456789abcdef', substr(lower("end"), -9, 1)) - 1) << 32) + ((instr('0123456789abcdef', substr(lower("end"), -10, 1)) - 1) << 36) + ((instr('0123456789abcdef', substr(lower("end"), -11, 1)) - 1) << 40) + ((instr('0123456789abcdef', substr(lower("end"), -12, 1)) - 1) << 44) + ((instr('0123456789abcdef', substr(lower("end"), -13, 1)) - 1) << 48) ELSE '0x' || lower("end") END,
  "type", "protection", "size", "committed", "total_ws", "private_ws", "details" FROM `regions`;--> statement-breakpoint
DROP TABLE `regions`;--> statement-breakpoint
ALTER TABLE `__new_regions` RENAME TO `regions`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `regions_sample` ON `regions` (`sample_id`);