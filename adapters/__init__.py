"""The built-in vendor adapters, one package per vendor (installed as ``taskhub.adapters``)."""
