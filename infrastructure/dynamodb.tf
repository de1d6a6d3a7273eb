# WebSocket connections (looked up by session through a GSI, never scanned) and the idempotency records
# (Powertools' DynamoDB layout: pk `id`, TTL `expiration`). Both expire through TTL.

resource "aws_dynamodb_table" "connections" {
  count = local.enabled ? 1 : 0

  name                        = "${local.prefix}-connections"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "connection_id"
  deletion_protection_enabled = var.dynamodb_deletion_protection

  attribute {
    name = "connection_id"
    type = "S"
  }

  attribute {
    name = "session_id"
    type = "S"
  }

  # voice_common.realtime.SESSION_INDEX; the fan-out reads who subscribed and until when they may read
  # (user_id, auth_expires_at) besides the TTL, without touching the table.
  global_secondary_index {
    name               = "session_id-index"
    hash_key           = "session_id"
    projection_type    = "INCLUDE"
    non_key_attributes = ["expires_at", "user_id", "auth_expires_at"]
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.voice[0].arn
  }

  tags = local.tags
}

resource "aws_dynamodb_table" "idempotency" {
  count = local.enabled ? 1 : 0

  name                        = "${local.prefix}-idempotency"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "id"
  deletion_protection_enabled = var.dynamodb_deletion_protection

  attribute {
    name = "id"
    type = "S"
  }

  ttl {
    attribute_name = "expiration"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.voice[0].arn
  }

  tags = local.tags
}
