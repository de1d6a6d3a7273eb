# Archived transcripts (transcripts/{org}/{yyyy}/{mm}/{dd}/{session}.json) and the voice-preview cache
# (previews/{org}/...): private, versioned, KMS, TLS only, lifecycle per seed 001 (plus preview expiry),
# access-logged to a log bucket.

locals {
  transcript_bucket  = var.transcript_bucket_name != null ? var.transcript_bucket_name : "${local.prefix}-transcripts"
  create_log_bucket  = local.enabled && var.access_log_bucket_name == null
  access_log_bucket  = var.access_log_bucket_name != null ? var.access_log_bucket_name : one(aws_s3_bucket.access_logs[*].id)
  transcripts_prefix = "transcripts/"
  previews_prefix    = "previews/" # voice_common.preview.CACHE_PREFIX
}

resource "aws_s3_bucket" "transcripts" {
  #checkov:skip=CKV_AWS_144:Cross-region replication is a platform DR decision; transcripts are also bounded by the retention policy.
  #checkov:skip=CKV2_AWS_62:No consumer of S3 event notifications: the worker writes the archive and records it in the database itself.
  count = local.enabled ? 1 : 0

  bucket = local.transcript_bucket
  tags   = local.tags
}

resource "aws_s3_bucket_ownership_controls" "transcripts" {
  count = local.enabled ? 1 : 0

  bucket = aws_s3_bucket.transcripts[0].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "transcripts" {
  count = local.enabled ? 1 : 0

  bucket                  = aws_s3_bucket.transcripts[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "transcripts" {
  count = local.enabled ? 1 : 0

  bucket = aws_s3_bucket.transcripts[0].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "transcripts" {
  count = local.enabled ? 1 : 0

  bucket = aws_s3_bucket.transcripts[0].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.voice[0].arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "transcripts" {
  count = local.enabled ? 1 : 0

  bucket = aws_s3_bucket.transcripts[0].id

  rule {
    id     = "archive-old-transcripts"
    status = "Enabled"
    filter {
      prefix = local.transcripts_prefix
    }
    transition {
      days          = var.transcript_glacier_transition_days
      storage_class = "GLACIER"
    }
    # Backstop only: the retention run deletes archives with their rows after transcript_retention_days.
    expiration {
      days = var.transcript_expiration_days
    }
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }
  }

  rule {
    id     = "expire-voice-previews"
    status = "Enabled"
    filter {
      prefix = local.previews_prefix
    }
    expiration {
      days = var.preview_cache_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }

  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  lifecycle {
    precondition {
      condition     = var.transcript_expiration_days > var.transcript_glacier_transition_days
      error_message = "transcript_expiration_days must be greater than transcript_glacier_transition_days."
    }
  }

  depends_on = [aws_s3_bucket_versioning.transcripts]
}

resource "aws_s3_bucket_logging" "transcripts" {
  count = local.enabled ? 1 : 0

  bucket        = aws_s3_bucket.transcripts[0].id
  target_bucket = local.access_log_bucket
  target_prefix = "s3/${local.transcript_bucket}/"
}

data "aws_iam_policy_document" "transcripts_bucket" {
  count = local.enabled ? 1 : 0

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.transcripts[0].arn,
      "${aws_s3_bucket.transcripts[0].arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  # Objects are SSE-KMS (default encryption, or the worker's explicit aws:kms): refuse SSE-S3 uploads.
  statement {
    sid       = "DenyNonKmsUploads"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.transcripts[0].arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "StringNotEqualsIfExists"
      variable = "s3:x-amz-server-side-encryption"
      values   = ["aws:kms"]
    }
  }
}

resource "aws_s3_bucket_policy" "transcripts" {
  count = local.enabled ? 1 : 0

  bucket     = aws_s3_bucket.transcripts[0].id
  policy     = data.aws_iam_policy_document.transcripts_bucket[0].json
  depends_on = [aws_s3_bucket_public_access_block.transcripts]
}

# --- access-log bucket (unless the platform provides one) --------------------------------------------------

resource "aws_s3_bucket" "access_logs" {
  #checkov:skip=CKV_AWS_18:This is the access-log target; logging it into itself would loop.
  #checkov:skip=CKV_AWS_144:Access logs are an audit trail of this region's bucket; replication is a platform decision.
  #checkov:skip=CKV_AWS_145:S3 server access log delivery supports only SSE-S3 on the target bucket (AES256 below).
  #checkov:skip=CKV2_AWS_62:Nothing consumes events of the log bucket.
  count = local.create_log_bucket ? 1 : 0

  bucket = "${local.prefix}-access-logs"
  tags   = local.tags
}

resource "aws_s3_bucket_ownership_controls" "access_logs" {
  count = local.create_log_bucket ? 1 : 0

  bucket = aws_s3_bucket.access_logs[0].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "access_logs" {
  count = local.create_log_bucket ? 1 : 0

  bucket                  = aws_s3_bucket.access_logs[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "access_logs" {
  count = local.create_log_bucket ? 1 : 0

  bucket = aws_s3_bucket.access_logs[0].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs" {
  count = local.create_log_bucket ? 1 : 0

  bucket = aws_s3_bucket.access_logs[0].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs" {
  count = local.create_log_bucket ? 1 : 0

  bucket = aws_s3_bucket.access_logs[0].id
  rule {
    id     = "expire-access-logs"
    status = "Enabled"
    filter {}
    expiration {
      days = var.access_log_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
  depends_on = [aws_s3_bucket_versioning.access_logs]
}

data "aws_iam_policy_document" "access_logs_bucket" {
  count = local.create_log_bucket ? 1 : 0

  statement {
    sid       = "S3ServerAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.access_logs[0].arn}/s3/*"]
    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:s3:::${local.transcript_bucket}"]
    }
  }

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.access_logs[0].arn,
      "${aws_s3_bucket.access_logs[0].arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "access_logs" {
  count = local.create_log_bucket ? 1 : 0

  bucket     = aws_s3_bucket.access_logs[0].id
  policy     = data.aws_iam_policy_document.access_logs_bucket[0].json
  depends_on = [aws_s3_bucket_public_access_block.access_logs]
}
