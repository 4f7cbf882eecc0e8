"""TensorRT-LLM C++ runtime (0.x TensorRT engines): memory and speed only, no exporter."""
