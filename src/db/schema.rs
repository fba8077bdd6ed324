//! The one table list for both backends. Written by hand with portable column types only
//! (see docs/DATABASE.md); a test checks that both migration folders produce these columns.

diesel::table! {
    schools (id) {
        id -> Text,
        name -> Text,
        district_code -> Text,
        time_zone -> Text,
        address -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    people (id) {
        id -> Text,
        display_name -> Text,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        preferred_language -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        created_by -> Nullable<Text>,
        contact_erased_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    councils (id) {
        id -> Text,
        school_id -> Nullable<Text>,
        kind -> Text,
        regime -> Text,
        name -> Text,
        description -> Nullable<Text>,
        quorum_basis -> Text,
        regular_notice_hours -> BigInt,
        special_notice_hours -> BigInt,
        composition_rules -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        archived_at -> Nullable<Timestamp>,
        max_seats_per_person -> BigInt,
        speaker_seconds -> BigInt,
        assembly_quorum -> Nullable<BigInt>,
    }
}

diesel::table! {
    seats (id) {
        id -> Text,
        council_id -> Text,
        constituency -> Text,
        title -> Text,
        voting -> Bool,
        term_start -> Nullable<Date>,
        term_end -> Nullable<Date>,
        holder_id -> Nullable<Text>,
        holder_since -> Nullable<Date>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    seat_holdings (id) {
        id -> Text,
        seat_id -> Text,
        person_id -> Text,
        started_on -> Date,
        ended_on -> Nullable<Date>,
        end_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    rule_overrides (id) {
        id -> Text,
        council_id -> Text,
        seat_id -> Nullable<Text>,
        change -> Text,
        broken_rules -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    changes (seq) {
        seq -> BigInt,
        resource -> Text,
        resource_id -> Text,
        action -> Text,
        version -> BigInt,
        occurred_at -> Timestamp,
        txid -> BigInt,
    }
}

diesel::table! {
    change_prunes (id) {
        id -> Text,
        through_txid -> BigInt,
        through_seq -> BigInt,
        removed -> BigInt,
        pruned_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (id) {
        id -> Text,
        caller -> Text,
        idempotency_key -> Text,
        fingerprint -> Text,
        status -> Nullable<BigInt>,
        response_headers -> Nullable<Text>,
        response_body -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(councils -> schools (school_id));
diesel::joinable!(seats -> councils (council_id));
diesel::joinable!(seats -> people (holder_id));
diesel::joinable!(seat_holdings -> seats (seat_id));
diesel::joinable!(seat_holdings -> people (person_id));
diesel::joinable!(rule_overrides -> councils (council_id));

diesel::table! {
    meetings (id) {
        id -> Text,
        council_id -> Text,
        meeting_type -> Text,
        status -> Text,
        title -> Text,
        starts_at -> Timestamp,
        ends_at -> Nullable<Timestamp>,
        time_zone -> Text,
        location -> Nullable<Text>,
        remote_url -> Nullable<Text>,
        interpretation_languages -> Text,
        emergency_finding -> Nullable<Text>,
        media_notified_at -> Nullable<Timestamp>,
        noticed_at -> Nullable<Timestamp>,
        cancel_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    meeting_events (id) {
        id -> Text,
        meeting_id -> Text,
        action -> Text,
        from_status -> Nullable<Text>,
        to_status -> Text,
        actor -> Nullable<Text>,
        note -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    meeting_amendments (id) {
        id -> Text,
        meeting_id -> Text,
        reason -> Text,
        within_notice_window -> Bool,
        actor -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    agenda_items (id) {
        id -> Text,
        council_id -> Text,
        meeting_id -> Nullable<Text>,
        status -> Text,
        position -> Nullable<Text>,
        kind -> Text,
        legal_basis -> Nullable<Text>,
        title -> Text,
        description -> Nullable<Text>,
        presenter -> Nullable<Text>,
        proposed_by_seat_id -> Nullable<Text>,
        proposed_by -> Nullable<Text>,
        minutes_allotted -> Nullable<BigInt>,
        documents -> Text,
        translations -> Text,
        decline_reason -> Nullable<Text>,
        added_late -> Bool,
        amendment_id -> Nullable<Text>,
        comment_opened_at -> Nullable<Timestamp>,
        comment_closed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    meeting_attendance (id) {
        id -> Text,
        meeting_id -> Text,
        seat_id -> Text,
        person_id -> Text,
        status -> Text,
        remote -> Bool,
        remote_basis -> Nullable<Text>,
        arrived_at -> Nullable<Timestamp>,
        departed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    motions (id) {
        id -> Text,
        meeting_id -> Text,
        agenda_item_id -> Nullable<Text>,
        kind -> Text,
        text -> Text,
        mover_seat_id -> Text,
        seconder_seat_id -> Nullable<Text>,
        threshold -> Text,
        status -> Text,
        membership -> BigInt,
        closed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    votes (id) {
        id -> Text,
        motion_id -> Text,
        seat_id -> Text,
        person_id -> Text,
        choice -> Text,
        reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::joinable!(meetings -> councils (council_id));
diesel::joinable!(meeting_events -> meetings (meeting_id));
diesel::joinable!(meeting_amendments -> meetings (meeting_id));
diesel::joinable!(agenda_items -> meetings (meeting_id));
diesel::joinable!(meeting_attendance -> meetings (meeting_id));
diesel::joinable!(meeting_attendance -> seats (seat_id));
diesel::joinable!(motions -> meetings (meeting_id));
diesel::joinable!(votes -> motions (motion_id));

diesel::table! {
    findings (id) {
        id -> Text,
        meeting_id -> Text,
        agenda_item_id -> Nullable<Text>,
        kind -> Text,
        facts -> Text,
        continued_from_item_id -> Nullable<Text>,
        members_present -> BigInt,
        membership -> BigInt,
        passed -> Bool,
        rule -> Text,
        actor -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    finding_votes (id) {
        id -> Text,
        finding_id -> Text,
        seat_id -> Text,
        person_id -> Text,
        choice -> Text,
        reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::joinable!(findings -> meetings (meeting_id));
diesel::joinable!(finding_votes -> findings (finding_id));

diesel::table! {
    minutes (id) {
        id -> Text,
        meeting_id -> Text,
        council_id -> Text,
        status -> Text,
        record -> Text,
        summary -> Nullable<Text>,
        notes -> Nullable<Text>,
        approval_item_id -> Nullable<Text>,
        approved_by_motion_id -> Nullable<Text>,
        approved_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    minutes_corrections (id) {
        id -> Text,
        minutes_id -> Text,
        reason -> Text,
        correction -> Text,
        actor -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::joinable!(minutes -> meetings (meeting_id));
diesel::joinable!(minutes_corrections -> minutes (minutes_id));

diesel::table! {
    service_request_tallies (month, school_id, category_id, status, partner_id) {
        school_id -> Text,
        category_id -> Text,
        month -> Text,
        status -> Text,
        partner_id -> Text,
        requests -> BigInt,
    }
}

diesel::table! {
    service_request_durations (school_id, measure, month, category_id, days) {
        school_id -> Text,
        category_id -> Text,
        month -> Text,
        measure -> Text,
        days -> BigInt,
        requests -> BigInt,
    }
}

diesel::table! {
    service_request_district_durations (measure, month, category_id, days) {
        category_id -> Text,
        month -> Text,
        measure -> Text,
        days -> BigInt,
        requests -> BigInt,
    }
}

diesel::table! {
    service_request_partner_actions (month, partner_id, school_id, category_id, action) {
        partner_id -> Text,
        school_id -> Text,
        category_id -> Text,
        month -> Text,
        action -> Text,
        requests -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    service_request_tallies,
    service_request_durations,
    service_request_district_durations,
    service_request_partner_actions,
    schools,
    people,
    councils,
    seats,
    seat_holdings,
    rule_overrides,
    changes,
    accounts,
    api_clients,
    grants,
    audit_events,
    service_categories,
    partner_organizations,
    partner_members,
    service_requests,
    service_request_events,
    service_request_notes,
    service_consents,
    service_disclosures,
    service_disclosure_exceptions,
    directory_preferences,
    meetings,
    meeting_events,
    meeting_amendments,
    agenda_items,
    meeting_attendance,
    motions,
    votes,
    findings,
    finding_votes,
    minutes,
    minutes_corrections,
    external_ids,
    imports,
    import_rows,
    family_invitations,
    oauth_apps,
    oauth_grants,
    oauth_codes,
    oauth_refresh_tokens,
    record_entries,
);

diesel::table! {
    accounts (id) {
        id -> Text,
        person_id -> Text,
        username -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        external_subject -> Nullable<Text>,
        disabled -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    api_clients (id) {
        id -> Text,
        client_id -> Text,
        name -> Text,
        secret_hash -> Text,
        disabled -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    grants (id) {
        id -> Text,
        subject_kind -> Text,
        subject_id -> Text,
        role -> Text,
        council_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        occurred_at -> Timestamp,
        actor_kind -> Text,
        actor_id -> Nullable<Text>,
        roles -> Text,
        action -> Text,
        resource -> Text,
        resource_id -> Nullable<Text>,
        outcome -> Text,
        status -> BigInt,
        request_id -> Nullable<Text>,
        client_address -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        app_client_id -> Nullable<Text>,
    }
}

diesel::joinable!(accounts -> people (person_id));
diesel::joinable!(grants -> councils (council_id));

diesel::table! {
    service_categories (id) {
        id -> Text,
        code -> Text,
        names -> Text,
        descriptions -> Text,
        active -> Bool,
        first_contact_school_days -> Nullable<BigInt>,
        pillar -> Nullable<Text>,
        sensitive -> Bool,
        consent_class -> Text,
        attributes -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    partner_organizations (id) {
        id -> Text,
        name -> Text,
        contact_email -> Nullable<Text>,
        contact_phone -> Nullable<Text>,
        offerings -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    partner_members (id) {
        id -> Text,
        partner_id -> Text,
        person_id -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    service_requests (id) {
        id -> Text,
        school_id -> Text,
        category_id -> Text,
        subject_code -> Text,
        subject_birth_date -> Nullable<Date>,
        family_person_id -> Nullable<Text>,
        description -> Nullable<Text>,
        attributes -> Text,
        preferred_language -> Text,
        contact_method -> Text,
        urgency -> Text,
        status -> Text,
        partner_id -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        subject_person_id -> Nullable<Text>,
    }
}

diesel::table! {
    service_request_events (id) {
        id -> Text,
        request_id -> Text,
        action -> Text,
        from_status -> Nullable<Text>,
        to_status -> Text,
        actor -> Text,
        party -> Text,
        note -> Nullable<Text>,
        partner_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    service_request_notes (id) {
        id -> Text,
        request_id -> Text,
        visibility -> Text,
        body -> Text,
        author -> Text,
        party -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    service_consents (id) {
        id -> Text,
        request_id -> Text,
        partner_id -> Text,
        records -> Text,
        purpose -> Text,
        giver -> Text,
        given_by_name -> Text,
        given_on -> Date,
        recorded_by -> Text,
        provider_attestation -> Bool,
        parent_involvement -> Nullable<Text>,
        withdrawn_at -> Nullable<Timestamp>,
        withdrawn_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    service_disclosures (id) {
        id -> Text,
        request_id -> Text,
        partner_id -> Text,
        consent_id -> Nullable<Text>,
        records -> Text,
        purpose -> Text,
        disclosed_by -> Text,
        disclosed_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        basis -> Text,
        exception_id -> Nullable<Text>,
        threat -> Nullable<Text>,
        legitimate_interest -> Nullable<Text>,
    }
}

diesel::table! {
    service_disclosure_exceptions (id) {
        id -> Text,
        request_id -> Text,
        partner_id -> Text,
        basis -> Text,
        threat -> Nullable<Text>,
        legitimate_interest -> Nullable<Text>,
        records -> Text,
        purpose -> Text,
        recorded_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::joinable!(partner_members -> partner_organizations (partner_id));
diesel::joinable!(partner_members -> people (person_id));
diesel::joinable!(service_requests -> schools (school_id));
diesel::joinable!(service_requests -> service_categories (category_id));
diesel::joinable!(service_requests -> partner_organizations (partner_id));
diesel::joinable!(service_request_events -> service_requests (request_id));
diesel::joinable!(service_request_notes -> service_requests (request_id));
diesel::joinable!(service_consents -> service_requests (request_id));
diesel::joinable!(service_disclosures -> service_requests (request_id));

diesel::table! {
    public_comments (id) {
        id -> Text,
        meeting_id -> Text,
        item_id -> Text,
        author_name -> Nullable<Text>,
        author_email -> Nullable<Text>,
        body -> Text,
        hidden_at -> Nullable<Timestamp>,
        hidden_reason -> Nullable<Text>,
        hidden_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    public_speakers (id) {
        id -> Text,
        meeting_id -> Text,
        item_id -> Text,
        name -> Nullable<Text>,
        interpretation -> Text,
        seconds_allowed -> BigInt,
        recorded_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    comment_attempts (subject, window_start) {
        subject -> Text,
        window_start -> Timestamp,
        attempts -> BigInt,
    }
}

diesel::table! {
    assembly_participants (id) {
        id -> Text,
        council_id -> Text,
        meeting_id -> Text,
        name -> Text,
        constituency -> Text,
        person_id -> Nullable<Text>,
        present -> Bool,
        checked_in_at -> Nullable<Timestamp>,
        checked_out_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    assembly_motions (id) {
        id -> Text,
        meeting_id -> Text,
        agenda_item_id -> Text,
        text -> Text,
        mover_participant_id -> Text,
        threshold -> Text,
        status -> Text,
        present_at_close -> Nullable<BigInt>,
        closed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    assembly_votes (id) {
        id -> Text,
        motion_id -> Text,
        participant_id -> Text,
        choice -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::joinable!(assembly_votes -> assembly_motions (motion_id));
diesel::joinable!(assembly_votes -> assembly_participants (participant_id));

diesel::allow_tables_to_appear_in_same_query!(
    public_comments,
    public_speakers,
    comment_attempts,
    assembly_participants,
    assembly_motions,
    assembly_votes,
);

diesel::table! {
    external_ids (id) {
        id -> Text,
        resource_kind -> Text,
        resource_id -> Text,
        system -> Text,
        value -> Text,
        created_at -> Timestamp,
        source_modified_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    imports (id) {
        id -> Text,
        status -> Text,
        format -> Text,
        dry_run -> Bool,
        on_error -> Text,
        system -> Text,
        time_zone -> Text,
        payload -> Binary,
        created_by -> Nullable<Text>,
        created_count -> BigInt,
        updated_count -> BigInt,
        unchanged_count -> BigInt,
        deleted_count -> BigInt,
        error_count -> BigInt,
        failure -> Nullable<Text>,
        claimed_by -> Nullable<Text>,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        lease_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    import_rows (id) {
        id -> Text,
        import_id -> Text,
        file -> Text,
        line -> BigInt,
        sourced_id -> Nullable<Text>,
        outcome -> Text,
        resource_id -> Nullable<Text>,
        field -> Nullable<Text>,
        message -> Nullable<Text>,
    }
}

diesel::joinable!(import_rows -> imports (import_id));

diesel::table! {
    webhooks (id) {
        id -> Text,
        url -> Text,
        description -> Nullable<Text>,
        event_types -> Text,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamp>,
        active -> Bool,
        disabled_reason -> Nullable<Text>,
        disabled_at -> Nullable<Timestamp>,
        owner_kind -> Text,
        owner_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    webhook_cursors (webhook_id) {
        webhook_id -> Text,
        after_txid -> BigInt,
        after_seq -> BigInt,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        webhook_id -> Text,
        change_seq -> BigInt,
        event_type -> Text,
        payload -> Text,
        state -> Text,
        attempts -> BigInt,
        failures_in_row -> BigInt,
        next_attempt_at -> Timestamp,
        last_status_code -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> Text,
        delivery_id -> Text,
        attempt -> BigInt,
        attempted_at -> Timestamp,
        status_code -> Nullable<BigInt>,
        latency_ms -> BigInt,
        error -> Nullable<Text>,
        instance -> Text,
    }
}

diesel::joinable!(webhook_cursors -> webhooks (webhook_id));
diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));

diesel::allow_tables_to_appear_in_same_query!(
    webhooks,
    webhook_cursors,
    webhook_deliveries,
    webhook_attempts,
);

diesel::joinable!(service_disclosure_exceptions -> service_requests (request_id));

diesel::table! {
    directory_preferences (id) {
        id -> Text,
        opt_outs -> Text,
        homeless_youth -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    family_invitations (id) {
        id -> Text,
        person_id -> Text,
        code_hash -> Text,
        purpose -> Text,
        relationship -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    oauth_apps (id) {
        id -> Text,
        client_id -> Text,
        name -> Text,
        owner -> Text,
        redirect_uris -> Text,
        confidential -> Bool,
        secret_hash -> Nullable<Text>,
        scopes -> Text,
        status -> Text,
        submitted_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    oauth_grants (id) {
        id -> Text,
        app_id -> Text,
        person_id -> Text,
        scopes -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        revoked_reason -> Nullable<Text>,
        version -> BigInt,
    }
}

diesel::table! {
    oauth_codes (code_hash) {
        code_hash -> Text,
        grant_id -> Text,
        redirect_uri -> Text,
        code_challenge -> Text,
        scopes -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    oauth_refresh_tokens (token_hash) {
        token_hash -> Text,
        grant_id -> Text,
        scopes -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(family_invitations -> people (person_id));
diesel::joinable!(oauth_grants -> oauth_apps (app_id));
diesel::joinable!(oauth_grants -> people (person_id));
diesel::joinable!(oauth_codes -> oauth_grants (grant_id));
diesel::joinable!(oauth_refresh_tokens -> oauth_grants (grant_id));

diesel::table! {
    record_entries (id) {
        id -> Text,
        council_id -> Text,
        seq -> BigInt,
        kind -> Text,
        subject_id -> Text,
        recorded_at -> Timestamp,
        data -> Text,
        prev_hash -> Text,
        hash -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::joinable!(record_entries -> councils (council_id));
