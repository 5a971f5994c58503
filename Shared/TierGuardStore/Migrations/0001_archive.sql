-- The customer archive (大客户档案). Filled in by the ingest work.
SELECT 1;
