# The signing secret of the per-session bot tokens (voice_common.bot_token): random, generated here,
# encrypted with the module key. The database URL and the platform provider keys are managed outside the
# module and passed in by ARN (variables.tf); per-organization keys are created by voice-credentials
# under cora/<environment>/voice/credentials/.

resource "random_password" "bot_token" {
  count = local.enabled ? 1 : 0

  length  = 64
  special = false
  # Changing bot_token_secret_version generates a new secret (tokens in flight stop verifying).
  keepers = {
    version = var.bot_token_secret_version
  }
}

resource "aws_secretsmanager_secret" "bot_token" {
  #checkov:skip=CKV2_AWS_57:Rotation is explicit (bot_token_secret_version): an automatic rotation would invalidate the tokens of interviews in progress.
  count = local.enabled ? 1 : 0

  name                    = "${local.prefix}-bot-token-secret"
  description             = "module-voice: HMAC key of the per-session bot tokens"
  kms_key_id              = aws_kms_key.voice[0].arn
  recovery_window_in_days = 7
  tags                    = local.tags
}

resource "aws_secretsmanager_secret_version" "bot_token" {
  count = local.enabled ? 1 : 0

  secret_id     = aws_secretsmanager_secret.bot_token[0].id
  secret_string = random_password.bot_token[0].result
}
