# The local background remover for the images function in AWS: numpy, onnxruntime and the u2netp
# model as a Lambda layer (python/ lands on the path, models/ in /opt/models), so PhotoRoom's 402
# and outages fall back to it there as they do locally. `make package` builds the zip beside
# chalice.tf.json (infra/deploy/layer.py); .chalice/config.json attaches it to the images function
# alone, whose deployment package plus this layer stay within Lambda's 250 MB unzipped.

resource "aws_lambda_layer_version" "local_remover" {
  layer_name               = "${local.name_prefix}-local-remover"
  description              = "numpy, onnxruntime and u2netp: the images function's fallback background remover"
  filename                 = "${path.module}/local-remover-layer.zip"
  source_code_hash         = filebase64sha256("${path.module}/local-remover-layer.zip")
  compatible_runtimes      = ["python3.11"]
  compatible_architectures = ["x86_64"]
}
