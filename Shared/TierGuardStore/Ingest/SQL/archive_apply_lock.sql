SELECT pg_advisory_xact_lock(hashtext('tierguard.archive.apply'))
