WITH u AS (
    UPDATE customers a SET name = s.c_name, id_type = s.c_id_type, id_number_hmac = s.c_id_number_hmac,
        phone_hmac = s.c_phone_hmac, birth_date = s.c_birth_date, gender = s.c_gender, risk_level = s.c_risk_level,
        risk_assessed_on = s.c_risk_assessed_on, annual_income_fen = s.c_annual_income_fen, rm_id = s.c_rm_id,
        branch_id = s.c_branch_id, opened_on = s.c_opened_on, status = s.c_status,
        marketing_opt_out = s.c_marketing_opt_out, id_number_enc = s.c_id_number_enc,
        id_number_key_id = s.c_id_number_key_id, phone_enc = s.c_phone_enc, phone_key_id = s.c_phone_key_id,
        content_hash = s.h, last_batch_id = $1, updated_at = now()
    FROM tg_stg_c s
    WHERE a.customer_id = s.c_customer_id AND a.content_hash <> s.h
    RETURNING a.customer_id AS customer_id)
INSERT INTO tg_touched SELECT DISTINCT customer_id FROM u
