WITH i AS (
    INSERT INTO customers (customer_id, name, id_type, id_number_hmac, phone_hmac, birth_date, gender, risk_level,
        risk_assessed_on, annual_income_fen, rm_id, branch_id, opened_on, status, marketing_opt_out, id_number_enc,
        id_number_key_id, phone_enc, phone_key_id, content_hash, first_batch_id, last_batch_id)
    SELECT s.c_customer_id, s.c_name, s.c_id_type, s.c_id_number_hmac, s.c_phone_hmac, s.c_birth_date, s.c_gender,
        s.c_risk_level, s.c_risk_assessed_on, s.c_annual_income_fen, s.c_rm_id, s.c_branch_id, s.c_opened_on,
        s.c_status, s.c_marketing_opt_out, s.c_id_number_enc, s.c_id_number_key_id, s.c_phone_enc, s.c_phone_key_id,
        s.h, $1, $1
    FROM tg_stg_c s
    WHERE true
    ON CONFLICT (customer_id) DO UPDATE SET
        name = EXCLUDED.name, id_type = EXCLUDED.id_type, id_number_hmac = EXCLUDED.id_number_hmac,
        phone_hmac = EXCLUDED.phone_hmac, birth_date = EXCLUDED.birth_date, gender = EXCLUDED.gender,
        risk_level = EXCLUDED.risk_level, risk_assessed_on = EXCLUDED.risk_assessed_on,
        annual_income_fen = EXCLUDED.annual_income_fen, rm_id = EXCLUDED.rm_id, branch_id = EXCLUDED.branch_id,
        opened_on = EXCLUDED.opened_on, status = EXCLUDED.status, marketing_opt_out = EXCLUDED.marketing_opt_out,
        id_number_enc = EXCLUDED.id_number_enc, id_number_key_id = EXCLUDED.id_number_key_id,
        phone_enc = EXCLUDED.phone_enc, phone_key_id = EXCLUDED.phone_key_id, content_hash = EXCLUDED.content_hash,
        last_batch_id = EXCLUDED.last_batch_id
    WHERE customers.content_hash <> EXCLUDED.content_hash
    RETURNING customer_id AS customer_id)
INSERT INTO tg_touched SELECT DISTINCT customer_id FROM i
