CREATE TABLE `session_verdicts` (
	`session_id` integer NOT NULL,
	`type` text NOT NULL,
	`verdict` text NOT NULL,
	`first_reached_at` integer NOT NULL,
	`first_reached_seq` integer NOT NULL,
	PRIMARY KEY(`session_id`, `type`, `verdict`),
	FOREIGN KEY (`session_id`) REFERENCES `sessions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `sessions` ADD `limit_bytes` integer;--> statement-breakpoint
ALTER TABLE `sessions` ADD `limit_source` text;