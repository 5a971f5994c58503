INSERT INTO tg_periodic_ticks (name, tick_at) VALUES ($1, to_timestamp($2::float8))
ON CONFLICT DO NOTHING
