CREATE TABLE `process_execs` (
	`process_id` integer NOT NULL,
	`seq` integer NOT NULL,
	`command` text NOT NULL,
	PRIMARY KEY(`process_id`, `seq`),
	FOREIGN KEY (`process_id`) REFERENCES `processes`(`id`) ON UPDATE no action ON DELETE cascade
);
