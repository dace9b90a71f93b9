"""Remote engines (vLLM, SGLang, llama.cpp's server): the model runs elsewhere, everything else here.

Context, prompt layout, post-processing, the parse check and the secret filter stay on our side; a
remote backend only turns a `GenerationRequest` (our prompt's token ids) into a `GenerationResult`,
as the in-process decoder does.
"""
