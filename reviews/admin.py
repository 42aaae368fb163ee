"""The reviewer workspace (review queue) lives here."""
