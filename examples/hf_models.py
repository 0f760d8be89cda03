"""Hugging Face `transformers` models built from configs, with random weights.

    from hf_models import model, FAMILIES, OTHER_FAMILIES
    m, inputs = model("llama", "small")      # or "bench"

No hub download: every model is built from a config here. `small` sizes keep
tests/python/test_hf_models.py fast; `bench` sizes (224x224 images, 128
tokens, d = 256, 2 layers) are what benchmarks/hf_models.py times. Weights
are re-initialized with PyTorch's default schemes and batch-norm statistics
randomized (see `reinit`). Also usable from the CLI, e.g.
`euler torch-coverage hf_models:llama` with examples/ on PYTHONPATH.
"""

import torch
import transformers as T

IMAGE = {"small": 32, "bench": 224}
TOKENS = {"small": 8, "bench": 128}
VOCAB = 1000


def _text(size, d):
    """(hidden, heads, layers, ffn) of a text model."""
    return (32, 4, 2, 64) if size == "small" else (d, 4, 2, 4 * d)


def reinit(model, seed=0):
    """PyTorch's default init for every layer, random batch-norm statistics.

    transformers' std-0.02 init makes deep CNN outputs vanish, which would let
    a wrong result pass an absolute tolerance.
    """
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    for m in model.modules():
        if hasattr(m, "reset_parameters") and m is not model:
            m.reset_parameters()
        if isinstance(m, torch.nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.uniform_(-0.5, 0.5, generator=g)
                m.running_var.uniform_(0.5, 2.0, generator=g)
                m.weight.uniform_(0.5, 1.5, generator=g)
                m.bias.uniform_(-0.5, 0.5, generator=g)
    return model.eval()


def _ids(size, seed=0):
    return (torch.randint(0, VOCAB, (1, TOKENS[size]), generator=torch.Generator().manual_seed(seed)),)


def _image(size, seed=0):
    s = IMAGE[size]
    return (torch.randn(1, 3, s, s, generator=torch.Generator().manual_seed(seed)),)


# --- the five families of issue 11 ---------------------------------------------------

def resnet(size="small"):
    if size == "small":
        cfg = T.ResNetConfig(embedding_size=16, hidden_sizes=[16, 32], depths=[1, 1],
                             layer_type="basic")
    else:  # ResNet-18
        cfg = T.ResNetConfig(embedding_size=64, hidden_sizes=[64, 128, 256, 512],
                             depths=[2, 2, 2, 2], layer_type="basic")
    return reinit(T.ResNetModel(cfg)), _image(size)


def mobilenet_v2(size="small"):
    cfg = T.MobileNetV2Config(image_size=IMAGE[size],
                              depth_multiplier=0.35 if size == "small" else 1.0)
    return reinit(T.MobileNetV2Model(cfg)), _image(size)


def bert(size="small", cls=T.BertModel, config=T.BertConfig, positions=512, **extra):
    d, heads, layers, ffn = _text(size, 256)
    cfg = config(vocab_size=VOCAB, hidden_size=d, num_hidden_layers=layers,
                 num_attention_heads=heads, intermediate_size=ffn,
                 max_position_embeddings=positions, **extra)
    return reinit(cls(cfg)), _ids(size)


def gpt2(size="small"):
    d, heads, layers, _ = _text(size, 256)
    cfg = T.GPT2Config(vocab_size=VOCAB, n_embd=d, n_layer=layers, n_head=heads,
                       n_positions=512, use_cache=False, bos_token_id=0, eos_token_id=0)
    return reinit(T.GPT2Model(cfg)), _ids(size)


def llama(size="small", cls=T.LlamaModel, config=T.LlamaConfig, use_cache=False, **extra):
    d, heads, layers, ffn = _text(size, 256)
    cfg = config(vocab_size=VOCAB, hidden_size=d, intermediate_size=ffn,
                 num_hidden_layers=layers, num_attention_heads=heads,
                 num_key_value_heads=heads // 2, max_position_embeddings=512, use_cache=use_cache,
                 **extra)
    return reinit(cls(cfg)), _ids(size)


FAMILIES = {"resnet": resnet, "mobilenet_v2": mobilenet_v2, "bert": bert, "gpt2": gpt2,
            "llama": llama}


# --- further families from transformers' configs -------------------------------------

def vit(size="small"):
    d, heads, layers, ffn = _text(size, 256)
    cfg = T.ViTConfig(image_size=IMAGE[size], patch_size=8 if size == "small" else 16,
                      hidden_size=d, num_hidden_layers=layers, num_attention_heads=heads,
                      intermediate_size=ffn)
    return reinit(T.ViTModel(cfg, add_pooling_layer=False)), _image(size)


def convnext(size="small"):
    if size == "small":
        cfg = T.ConvNextConfig(hidden_sizes=[16, 32], depths=[1, 1], num_stages=2)
    else:  # ConvNeXt-tiny
        cfg = T.ConvNextConfig(hidden_sizes=[96, 192, 384, 768], depths=[3, 3, 9, 3])
    return reinit(T.ConvNextModel(cfg)), _image(size)


def distilbert(size="small"):
    d, heads, layers, ffn = _text(size, 256)
    cfg = T.DistilBertConfig(vocab_size=VOCAB, dim=d, n_layers=layers, n_heads=heads,
                             hidden_dim=ffn, max_position_embeddings=512)
    return reinit(T.DistilBertModel(cfg)), _ids(size)


def roberta(size="small"):
    # Positions start after the padding index: 2 more position embeddings.
    return bert(size, T.RobertaModel, T.RobertaConfig, positions=514)


def t5_encoder(size="small", cls=T.T5EncoderModel, config=T.T5Config):
    d, heads, layers, ffn = _text(size, 256)
    cfg = config(vocab_size=VOCAB, d_model=d, d_kv=d // heads, d_ff=ffn, num_layers=layers,
                 num_heads=heads, use_cache=False)
    return reinit(cls(cfg)), _ids(size)


def bart_encoder(size="small", cls=T.BartModel, config=T.BartConfig):
    d, heads, layers, ffn = _text(size, 256)
    cfg = config(vocab_size=VOCAB, d_model=d, encoder_layers=layers, decoder_layers=layers,
                 encoder_attention_heads=heads, decoder_attention_heads=heads,
                 encoder_ffn_dim=ffn, decoder_ffn_dim=ffn, max_position_embeddings=512,
                 use_cache=False)
    return reinit(cls(cfg).get_encoder()), _ids(size)


def mistral(size="small"):
    return llama(size, T.MistralModel, T.MistralConfig, sliding_window=None)


def qwen2(size="small"):
    return llama(size, T.Qwen2Model, T.Qwen2Config)


def albert(size="small"):
    # Factorized embeddings and one layer's weights shared by every layer.
    return bert(size, T.AlbertModel, T.AlbertConfig, embedding_size=16 if size == "small" else 128)


def electra(size="small"):
    return bert(size, T.ElectraModel, T.ElectraConfig,
                embedding_size=16 if size == "small" else 128)


def deberta_v2(size="small"):
    # Disentangled relative-position attention (gathers of position scores).
    return bert(size, T.DebertaV2Model, T.DebertaV2Config)


def phi(size="small"):
    return llama(size, T.PhiModel, T.PhiConfig, partial_rotary_factor=0.5)


def gemma(size="small"):
    d, heads, _, _ = _text(size, 256)
    return llama(size, T.GemmaModel, T.GemmaConfig, head_dim=d // heads)


def opt(size="small"):
    d, heads, layers, ffn = _text(size, 256)
    cfg = T.OPTConfig(vocab_size=VOCAB, hidden_size=d, num_hidden_layers=layers, ffn_dim=ffn,
                      num_attention_heads=heads, max_position_embeddings=512,
                      word_embed_proj_dim=d, use_cache=False, pad_token_id=1)
    return reinit(T.OPTModel(cfg)), _ids(size)


def gpt_neo(size="small"):
    # Alternating global and sliding-window (local) attention layers.
    d, heads, layers, ffn = _text(size, 256)
    cfg = T.GPTNeoConfig(vocab_size=VOCAB, hidden_size=d, num_layers=layers, num_heads=heads,
                         intermediate_size=ffn, attention_types=[[["global", "local"], layers // 2]],
                         window_size=4 if size == "small" else 64, max_position_embeddings=512,
                         use_cache=False)
    return reinit(T.GPTNeoModel(cfg)), _ids(size)


def gptj(size="small", cls=T.GPTJModel, config=T.GPTJConfig):
    # Interleaved rotary embeddings from a gathered sin/cos table.
    d, heads, layers, _ = _text(size, 256)
    cfg = config(vocab_size=VOCAB, n_embd=d, n_layer=layers, n_head=heads,
                 rotary_dim=d // heads // 2, n_positions=512, use_cache=False,
                 bos_token_id=0, eos_token_id=0)
    return reinit(cls(cfg)), _ids(size)


def bloom(size="small"):
    # ALiBi position biases instead of position embeddings.
    d, heads, layers, _ = _text(size, 256)
    cfg = T.BloomConfig(vocab_size=VOCAB, hidden_size=d, n_layer=layers, n_head=heads,
                        use_cache=False)
    return reinit(T.BloomModel(cfg)), _ids(size)


def falcon(size="small"):
    d, heads, layers, _ = _text(size, 256)
    cfg = T.FalconConfig(vocab_size=VOCAB, hidden_size=d, num_hidden_layers=layers,
                         num_attention_heads=heads, use_cache=False)
    return reinit(T.FalconModel(cfg)), _ids(size)


def whisper_encoder(size="small"):
    # Two 1-D convolutions over a log-mel spectrogram, then a transformer.
    d, heads, layers, ffn = _text(size, 256)
    frames = 16 if size == "small" else 1500
    cfg = T.WhisperConfig(vocab_size=VOCAB, d_model=d, encoder_layers=layers,
                          decoder_layers=layers, encoder_attention_heads=heads,
                          decoder_attention_heads=heads, encoder_ffn_dim=ffn, decoder_ffn_dim=ffn,
                          num_mel_bins=16 if size == "small" else 80, max_source_positions=frames,
                          use_cache=False, pad_token_id=0, bos_token_id=0, eos_token_id=0,
                          decoder_start_token_id=0)
    mel = torch.randn(1, cfg.num_mel_bins, 2 * frames, generator=torch.Generator().manual_seed(0))
    return reinit(T.WhisperModel(cfg).get_encoder()), (mel,)


def wav2vec2(size="small"):
    # Strided 1-D conv feature extractor with group norm, a grouped
    # weight-normed positional conv, then a transformer.
    d, heads, layers, ffn = _text(size, 256)
    conv = ((16, 16), (5, 2), (10, 3)) if size == "small" else \
        ((256,) * 4, (5, 2, 2, 2), (10, 3, 3, 2))
    cfg = T.Wav2Vec2Config(hidden_size=d, num_hidden_layers=layers, num_attention_heads=heads,
                           intermediate_size=ffn, conv_dim=conv[0], conv_stride=conv[1],
                           conv_kernel=conv[2], num_conv_pos_embeddings=16,
                           num_conv_pos_embedding_groups=4)
    samples = 800 if size == "small" else 16000
    wave = torch.randn(1, samples, generator=torch.Generator().manual_seed(0))
    return reinit(T.Wav2Vec2Model(cfg)), (wave,)


def mamba(size="small"):
    # A selective state-space model: depthwise causal conv1d, softplus (log1p),
    # and the sequential scan of its slow path, one step per token.
    d, _, layers, _ = _text(size, 256)
    cfg = T.MambaConfig(vocab_size=VOCAB, hidden_size=d, num_hidden_layers=layers,
                        state_size=8 if size == "small" else 16, use_cache=False)
    return reinit(T.MambaModel(cfg)), _ids(size)


def _vit_like(size, cls, config, **extra):
    d, heads, layers, ffn = _text(size, 256)
    cfg = config(image_size=IMAGE[size], patch_size=8 if size == "small" else 16, hidden_size=d,
                 num_hidden_layers=layers, num_attention_heads=heads, intermediate_size=ffn,
                 **extra)
    return reinit(cls(cfg)), _image(size)


def beit(size="small"):
    # Relative position biases, indexed from a learned table.
    return _vit_like(size, T.BeitModel, T.BeitConfig, use_relative_position_bias=True)


def dinov2(size="small"):
    # Interpolated position embeddings (bicubic) and layer scale.
    return _vit_like(size, T.Dinov2Model, T.Dinov2Config)


def swin(size="small"):
    # Shifted-window attention: rolls, window partitions, relative biases.
    if size == "small":
        cfg = T.SwinConfig(image_size=IMAGE[size], patch_size=4, embed_dim=16, depths=[1, 1],
                           num_heads=[2, 4], window_size=4)
    else:  # Swin-tiny
        cfg = T.SwinConfig(image_size=IMAGE[size])
    return reinit(T.SwinModel(cfg)), _image(size)


def regnet(size="small"):
    # Grouped convolutions and squeeze-and-excitation.
    cfg = T.RegNetConfig(embedding_size=16, hidden_sizes=[16, 32], depths=[1, 1],
                         groups_width=8) if size == "small" else T.RegNetConfig()
    return reinit(T.RegNetModel(cfg)), _image(size)


def efficientnet(size="small"):
    # Depthwise convs, squeeze-and-excitation, swish, a ceil-mode avg-pool head.
    width, depth = (0.25, 0.3) if size == "small" else (1.0, 1.0)  # B0 at bench size
    cfg = T.EfficientNetConfig(image_size=IMAGE[size], width_coefficient=width,
                               depth_coefficient=depth, hidden_dim=int(1280 * width))
    return reinit(T.EfficientNetModel(cfg)), _image(size)


def convnextv2(size="small"):
    # Global response norm: an L2 norm over the image (linalg_vector_norm).
    stages = ([16, 32], [1, 1]) if size == "small" else ([96, 192, 384, 768], [3, 3, 9, 3])
    cfg = T.ConvNextV2Config(hidden_sizes=stages[0], depths=stages[1], num_stages=len(stages[0]))
    return reinit(T.ConvNextV2Model(cfg)), _image(size)


def poolformer(size="small"):
    # Group norm, and avg pooling that leaves the padding out of the count.
    cfg = T.PoolFormerConfig(hidden_sizes=[16, 32], depths=[1, 1], num_encoder_blocks=2,
                             patch_sizes=[7, 3], strides=[4, 2], padding=[2, 1]) \
        if size == "small" else T.PoolFormerConfig()
    return reinit(T.PoolFormerModel(cfg)), _image(size)


# --- more families (session 4): state in buffers, hashing, pooling attention ---------------

def rwkv(size="small"):
    # A linear-attention RNN: a scan over tokens with exponentials of time decays.
    d, _, layers, ffn = _text(size, 256)
    cfg = T.RwkvConfig(vocab_size=VOCAB, hidden_size=d, num_hidden_layers=layers,
                       attention_hidden_size=d, intermediate_size=ffn,
                       context_length=TOKENS[size], use_cache=False)
    model, ids = reinit(T.RwkvModel(cfg)), _ids(size)
    with torch.no_grad():  # its first eval call rescales the weights in place, once
        model(*ids)
    return model, ids


def ctrl(size="small"):
    # Sinusoidal position encodings computed in the forward pass.
    d, heads, layers, ffn = _text(size, 256)
    cfg = T.CTRLConfig(vocab_size=VOCAB, n_embd=d, n_layer=layers, n_head=heads, dff=ffn,
                       n_positions=512, use_cache=False)
    return reinit(T.CTRLModel(cfg)), _ids(size)


def gpt_bigcode(size="small"):
    # Multi-query attention: one key/value head.
    d, heads, layers, _ = _text(size, 256)
    cfg = T.GPTBigCodeConfig(vocab_size=VOCAB, n_embd=d, n_layer=layers, n_head=heads,
                             n_positions=512, use_cache=False, bos_token_id=0, eos_token_id=0)
    return reinit(T.GPTBigCodeModel(cfg)), _ids(size)


def stablelm(size="small"):
    return llama(size, T.StableLmModel, T.StableLmConfig)


def codegen(size="small"):
    # Rotary embeddings on part of each head, a fused qkv projection.
    return gptj(size, T.CodeGenModel, T.CodeGenConfig)


def biogpt(size="small"):
    d, heads, layers, ffn = _text(size, 256)
    cfg = T.BioGptConfig(vocab_size=VOCAB, hidden_size=d, num_hidden_layers=layers,
                         num_attention_heads=heads, intermediate_size=ffn, use_cache=False)
    return reinit(T.BioGptModel(cfg)), _ids(size)


def xglm(size="small"):
    d, heads, layers, ffn = _text(size, 256)
    cfg = T.XGLMConfig(vocab_size=VOCAB, d_model=d, num_layers=layers, attention_heads=heads,
                       ffn_dim=ffn, use_cache=False)
    return reinit(T.XGLMModel(cfg)), _ids(size)


def mpnet(size="small"):
    # Relative position buckets (integer logs of distances).
    return bert(size, T.MPNetModel, T.MPNetConfig, positions=514)


def squeezebert(size="small"):
    # Grouped 1-D convolutions in place of the dense layers.
    d, heads, layers, ffn = _text(size, 256)
    cfg = T.SqueezeBertConfig(vocab_size=VOCAB, hidden_size=d, num_hidden_layers=layers,
                              num_attention_heads=heads, intermediate_size=ffn, embedding_size=d,
                              q_groups=2, k_groups=2, v_groups=2, post_attention_groups=2,
                              intermediate_groups=2, output_groups=2)
    return reinit(T.SqueezeBertModel(cfg)), _ids(size)


def funnel(size="small"):
    # Pooling of the sequence between blocks, relative attention.
    d, heads, _, ffn = _text(size, 256)
    cfg = T.FunnelConfig(vocab_size=VOCAB, d_model=d, n_head=heads, d_head=d // heads,
                         d_inner=ffn, block_sizes=[1, 1])
    return reinit(T.FunnelBaseModel(cfg)), _ids(size)


def xlnet(size="small"):
    # Two-stream relative attention with sinusoidal relative positions.
    d, heads, layers, ffn = _text(size, 256)
    cfg = T.XLNetConfig(vocab_size=VOCAB, d_model=d, n_layer=layers, n_head=heads, d_inner=ffn,
                        use_mems_eval=False)
    return reinit(T.XLNetModel(cfg)), _ids(size)


def canine(size="small"):
    # Character hashing (integer multiply and remainder), a strided conv1d
    # downsampling, local attention.
    d, heads, layers, ffn = _text(size, 256)
    cfg = T.CanineConfig(hidden_size=d, num_hidden_layers=layers, num_attention_heads=heads,
                         intermediate_size=ffn, downsampling_rate=2, num_hash_buckets=64 if size == "small" else 16384,
                         local_transformer_stride=4 if size == "small" else 32)
    chars = 16 if size == "small" else TOKENS[size]
    return reinit(T.CanineModel(cfg)), (torch.randint(0, 1000, (1, chars),
                                                      generator=torch.Generator().manual_seed(0)),)


def mbart_encoder(size="small"):
    return bart_encoder(size, T.MBartModel, T.MBartConfig)


def deit(size="small"):
    return _vit_like(size, T.DeiTModel, T.DeiTConfig)


def mobilevit(size="small"):
    # Convolutions and transformers on unfolded image patches.
    cfg = T.MobileViTConfig(image_size=IMAGE[size], hidden_sizes=[16, 24, 32],
                            neck_hidden_sizes=[8, 8, 16, 16, 24, 32, 64]) \
        if size == "small" else T.MobileViTConfig(image_size=IMAGE[size])
    return reinit(T.MobileViTModel(cfg)), _image(size)


def segformer(size="small"):
    # Overlapping patch embeddings, attention over spatially reduced keys.
    cfg = T.SegformerConfig(num_encoder_blocks=2, depths=[1, 1], sr_ratios=[2, 1],
                            hidden_sizes=[16, 32], num_attention_heads=[1, 2], mlp_ratios=[2, 2],
                            patch_sizes=[7, 3], strides=[4, 2]) \
        if size == "small" else T.SegformerConfig()
    return reinit(T.SegformerModel(cfg)), _image(size)


def levit(size="small"):
    # Convolutional stem, attention with subsampled queries and learned biases.
    cfg = T.LevitConfig(image_size=IMAGE[size], hidden_sizes=[16, 32, 48],
                        num_attention_heads=[1, 2, 3], depths=[1, 1, 1], key_dim=[8, 8, 8]) \
        if size == "small" else T.LevitConfig(image_size=IMAGE[size])
    return reinit(T.LevitModel(cfg)), _image(size)


# --- more families (session 6): decoder LMs that return their KV cache (use_cache=True,
# transformers' default: a DynamicCache in the output), encoders, hierarchical vision --------

def _head_dim(size):
    d, heads, _, _ = _text(size, 256)
    return d // heads


def olmo(size="small"):
    return llama(size, T.OlmoModel, T.OlmoConfig, use_cache=True, pad_token_id=0,
                 bos_token_id=0, eos_token_id=0)


def qwen3(size="small"):
    # Per-head RMSNorm of queries and keys.
    return llama(size, T.Qwen3Model, T.Qwen3Config, use_cache=True, head_dim=_head_dim(size))


def granite(size="small"):
    # Scaled embeddings, residuals and attention (muP multipliers).
    return llama(size, T.GraniteModel, T.GraniteConfig, use_cache=True, embedding_multiplier=2.0,
                 residual_multiplier=0.5, attention_multiplier=0.1)


def cohere(size="small"):
    # Parallel attention and MLP from one layer norm, interleaved rotary embeddings.
    return llama(size, T.CohereModel, T.CohereConfig, use_cache=True, pad_token_id=0,
                 bos_token_id=0, eos_token_id=0)


def gemma2(size="small"):
    # Soft-capped attention logits (tanh), alternating sliding-window layers.
    return llama(size, T.Gemma2Model, T.Gemma2Config, use_cache=True, head_dim=_head_dim(size),
                 pad_token_id=0, bos_token_id=0, eos_token_id=0)


def starcoder2(size="small"):
    return llama(size, T.Starcoder2Model, T.Starcoder2Config, use_cache=True,
                 bos_token_id=0, eos_token_id=0)


def gpt_neox(size="small"):
    # Parallel residual, partial rotary embeddings (Pythia).
    d, heads, layers, ffn = _text(size, 256)
    cfg = T.GPTNeoXConfig(vocab_size=VOCAB, hidden_size=d, num_hidden_layers=layers,
                          num_attention_heads=heads, intermediate_size=ffn,
                          max_position_embeddings=512, bos_token_id=0, eos_token_id=0)
    return reinit(T.GPTNeoXModel(cfg)), _ids(size)


def mobilebert(size="small"):
    # Bottlenecks, stacked feed-forward networks, NoNorm (an elementwise affine).
    d, heads, layers, ffn = _text(size, 256)
    cfg = T.MobileBertConfig(vocab_size=VOCAB, hidden_size=d, num_hidden_layers=layers,
                             num_attention_heads=heads, intermediate_size=ffn,
                             embedding_size=d // 2, intra_bottleneck_size=d // 2,
                             true_hidden_size=d // 2, num_feedforward_networks=2)
    return reinit(T.MobileBertModel(cfg)), _ids(size)


def convbert(size="small"):
    # Span-based dynamic convolutions beside attention (unfold of the sequence).
    return bert(size, T.ConvBertModel, T.ConvBertConfig, embedding_size=_text(size, 256)[0])


def megatron_bert(size="small"):
    # Pre-layer-norm BERT.
    return bert(size, T.MegatronBertModel, T.MegatronBertConfig)


def layoutlm(size="small"):
    # 2-D position embeddings of (all-zero) bounding boxes.
    return bert(size, T.LayoutLMModel, T.LayoutLMConfig)


def ibert(size="small"):
    return bert(size, T.IBertModel, T.IBertConfig, positions=514)


def data2vec_text(size="small"):
    return bert(size, T.Data2VecTextModel, T.Data2VecTextConfig, positions=514)


def esm(size="small"):
    # A protein language model: rotary embeddings, exact GELU written with erf.
    return bert(size, T.EsmModel, T.EsmConfig, pad_token_id=1, position_embedding_type="rotary")


def clip_text(size="small"):
    # Causal mask over the text, quick-GELU.
    d, heads, layers, ffn = _text(size, 256)
    cfg = T.CLIPTextConfig(vocab_size=VOCAB, hidden_size=d, num_hidden_layers=layers,
                           num_attention_heads=heads, intermediate_size=ffn,
                           max_position_embeddings=TOKENS[size], bos_token_id=0, eos_token_id=1,
                           pad_token_id=1)
    return reinit(T.CLIPTextModel(cfg)), _ids(size)


def clip_vision(size="small"):
    return _vit_like(size, T.CLIPVisionModel, T.CLIPVisionConfig)


def siglip_vision(size="small"):
    # No class token: an attention-pooling head.
    return _vit_like(size, T.SiglipVisionModel, T.SiglipVisionConfig)


def dpt(size="small"):
    # A ViT encoder under a dense-prediction model.
    return _vit_like(size, T.DPTModel, T.DPTConfig)


def yolos(size="small"):
    # Detection tokens appended to the patches; interpolated position embeddings.
    d, heads, layers, ffn = _text(size, 256)
    cfg = T.YolosConfig(image_size=[IMAGE[size]] * 2, patch_size=8 if size == "small" else 16,
                        hidden_size=d, num_hidden_layers=layers, num_attention_heads=heads,
                        intermediate_size=ffn, num_detection_tokens=4)
    return reinit(T.YolosModel(cfg)), _image(size)


def focalnet(size="small"):
    # Focal modulation: depthwise convs, gated context aggregation.
    cfg = T.FocalNetConfig(image_size=IMAGE[size], patch_size=4, embed_dim=16, depths=[1, 1]) \
        if size == "small" else T.FocalNetConfig(image_size=IMAGE[size])
    return reinit(T.FocalNetModel(cfg)), _image(size)


def pvt(size="small"):
    # Spatial-reduction attention (keys and values from a strided conv).
    cfg = T.PvtConfig(image_size=IMAGE[size], num_encoder_blocks=2, depths=[1, 1],
                      sequence_reduction_ratios=[2, 1], hidden_sizes=[16, 32],
                      num_attention_heads=[1, 2], mlp_ratios=[2, 2], patch_sizes=[4, 2],
                      strides=[4, 2]) if size == "small" else T.PvtConfig(image_size=IMAGE[size])
    return reinit(T.PvtModel(cfg)), _image(size)


def glpn(size="small"):
    # A SegFormer-style encoder (mix-FFN with depthwise convs).
    cfg = T.GLPNConfig(num_encoder_blocks=2, depths=[1, 1], sr_ratios=[2, 1],
                       hidden_sizes=[16, 32], num_attention_heads=[1, 2], mlp_ratios=[2, 2],
                       patch_sizes=[7, 3], strides=[4, 2]) if size == "small" else T.GLPNConfig()
    return reinit(T.GLPNModel(cfg)), _image(size)


def mobilenet_v1(size="small"):
    # TF-style "same" padding of depthwise-separable convs, ReLU6.
    cfg = T.MobileNetV1Config(image_size=IMAGE[size],
                              depth_multiplier=0.25 if size == "small" else 1.0)
    return reinit(T.MobileNetV1Model(cfg)), _image(size)


# --- more families (session 7): mixture of experts, axial positions, random masking -------

def mixtral(size="small"):
    # A sparse mixture of experts: a top-2 router (topk) over 4 experts, and
    # transformers' default experts code: tokens sorted by expert, counted per
    # expert (histc) and multiplied in one grouped matmul (its custom op).
    return llama(size, T.MixtralModel, T.MixtralConfig, num_local_experts=4,
                 num_experts_per_tok=2)


def persimmon(size="small"):
    # Layer norms of queries and keys, squared ReLU, partial rotary embeddings;
    # its KV cache starts from tensor constants made inside the attention.
    d, heads, layers, ffn = _text(size, 256)
    cfg = T.PersimmonConfig(vocab_size=VOCAB, hidden_size=d, intermediate_size=ffn,
                            num_hidden_layers=layers, num_attention_heads=heads,
                            max_position_embeddings=512)
    return reinit(T.PersimmonModel(cfg)), _ids(size)


def reformer(size="small"):
    # Chunked local attention, reversible residuals, axial position encodings
    # sliced by `position_ids.max().item()`. Its LSH attention layers are left
    # out: they hash with random rotations drawn at every call (torch.randn).
    d, heads, _, ffn = _text(size, 256)
    tokens = TOKENS[size]
    cfg = T.ReformerConfig(vocab_size=VOCAB, hidden_size=d, num_attention_heads=heads,
                           attention_head_size=d // heads, feed_forward_size=ffn,
                           attn_layers=["local", "local"], axial_pos_shape=[2, tokens // 2],
                           axial_pos_embds_dim=[d // 2, d // 2], local_attn_chunk_length=4,
                           is_decoder=False, max_position_embeddings=tokens, use_cache=False)
    return reinit(T.ReformerModel(cfg)), _ids(size)


def vit_mae(size="small"):
    # Random masking of 75% of the patches (argsort of the noise, gathers):
    # the noise is an input, as ViTMAEModel's `noise` argument allows, since
    # euler compiles no random ops (torch.rand otherwise).
    model, image = _vit_like(size, T.ViTMAEModel, T.ViTMAEConfig)
    patches = (IMAGE[size] // (8 if size == "small" else 16)) ** 2
    return model, image + (torch.rand(1, patches, generator=torch.Generator().manual_seed(1)),)


# --- more families (session 7, continued): complex numbers, scans, hybrids -------------

def fnet(size="small"):
    # Token mixing by a 2-D Fourier transform (fftn(...).real): complex tensors.
    return bert(size, T.FNetModel, T.FNetConfig)


def llama4(size="small"):
    # Rotary embeddings as a complex product (view_as_complex / view_as_real),
    # chunked and no-rope layers, a mixture of experts with a shared expert.
    return llama(size, T.Llama4TextModel, T.Llama4TextConfig, use_cache=True, num_local_experts=2,
                 num_experts_per_tok=1, intermediate_size_mlp=_text(size, 256)[3],
                 head_dim=_head_dim(size), pad_token_id=0, bos_token_id=0, eos_token_id=0)


def qwen2_moe(size="small"):
    # Top-2 of 4 experts plus a sigmoid-gated shared expert; the experts as
    # batched matmuls of each token's gathered weights (experts_implementation).
    ffn = _text(size, 256)[3]
    return llama(size, T.Qwen2MoeModel, T.Qwen2MoeConfig, num_experts=4, num_experts_per_tok=2,
                 moe_intermediate_size=ffn // 2, shared_expert_intermediate_size=ffn // 2,
                 experts_implementation="batched_mm")


def jamba(size="small"):
    # A hybrid: a Mamba layer, then an attention layer with a mixture of experts.
    d = _text(size, 256)[0]
    return llama(size, T.JambaModel, T.JambaConfig, num_experts=2, num_experts_per_tok=1,
                 mamba_d_state=8 if size == "small" else 16, mamba_dt_rank=d // 8,
                 attn_layer_period=2, attn_layer_offset=1, expert_layer_period=2,
                 expert_layer_offset=1, use_mamba_kernels=False, experts_implementation="batched_mm")


def mamba2(size="small"):
    # State-space duality: the scan in chunks (segment sums, exp of cumsums, tril masks).
    d, _, layers, _ = _text(size, 256)
    heads = 4 if size == "small" else 8
    cfg = T.Mamba2Config(vocab_size=VOCAB, hidden_size=d, num_hidden_layers=layers, num_heads=heads,
                         head_dim=2 * d // heads, state_size=8 if size == "small" else 16,
                         n_groups=1, chunk_size=4 if size == "small" else 32, use_cache=False)
    return reinit(T.Mamba2Model(cfg)), _ids(size)


def recurrent_gemma(size="small"):
    # Griffin: RG-LRU recurrences (a scan of gated decays) and local attention.
    d, heads, _, ffn = _text(size, 256)
    cfg = T.RecurrentGemmaConfig(vocab_size=VOCAB, hidden_size=d, num_hidden_layers=3,
                                 num_attention_heads=heads, num_key_value_heads=1,
                                 intermediate_size=ffn, lru_width=d, attention_window_size=4 if size == "small" else 64,
                                 use_cache=False)
    return reinit(T.RecurrentGemmaModel(cfg)), _ids(size)


def lfm2(size="small"):
    # A short gated causal convolution layer beside attention.
    return llama(size, T.Lfm2Model, T.Lfm2Config, pad_token_id=0, bos_token_id=0, eos_token_id=0,
                 layer_types=["conv", "full_attention"])


def phi3(size="small"):
    # Fused qkv and gate-up projections.
    return llama(size, T.Phi3Model, T.Phi3Config, use_cache=True, pad_token_id=0, bos_token_id=0,
                 eos_token_id=0)


def olmo2(size="small"):
    # Norms after attention and MLP, RMSNorm of whole queries and keys.
    return llama(size, T.Olmo2Model, T.Olmo2Config, use_cache=True, pad_token_id=0,
                 bos_token_id=0, eos_token_id=0)


def gemma3(size="small"):
    # Local and global layers with their own rotary bases, query/key norms.
    return llama(size, T.Gemma3TextModel, T.Gemma3TextConfig, use_cache=True,
                 head_dim=_head_dim(size), pad_token_id=0, bos_token_id=0, eos_token_id=0)


def cohere2(size="small"):
    # Sliding-window layers without rotary embeddings on the global ones.
    return llama(size, T.Cohere2Model, T.Cohere2Config, use_cache=True, pad_token_id=0,
                 bos_token_id=0, eos_token_id=0)


def nemotron(size="small"):
    # Squared-ReLU MLPs, layer norms with a 1 + weight scale.
    return llama(size, T.NemotronModel, T.NemotronConfig, pad_token_id=0, bos_token_id=0,
                 eos_token_id=0)


def mpt(size="small"):
    # ALiBi biases, no positional embeddings, fused qkv.
    d, heads, layers, _ = _text(size, 256)
    cfg = T.MptConfig(vocab_size=VOCAB, d_model=d, n_heads=heads, n_layers=layers,
                      expansion_ratio=2, max_seq_len=512, use_cache=False)
    return reinit(T.MptModel(cfg)), _ids(size)


def roformer(size="small"):
    # Sinusoidal rotary position embeddings in a BERT encoder.
    return bert(size, T.RoFormerModel, T.RoFormerConfig, embedding_size=_text(size, 256)[0])


def rembert(size="small"):
    # Decoupled input and output embedding sizes.
    e = 16 if size == "small" else 128
    return bert(size, T.RemBertModel, T.RemBertConfig, input_embedding_size=e,
                output_embedding_size=e)


def luke(size="small"):
    # Entity-aware attention (entity embeddings beside the words).
    return bert(size, T.LukeModel, T.LukeConfig, positions=514, entity_vocab_size=10,
                entity_emb_size=16)


def mra(size="small"):
    # Multi-resolution attention: block averages, top blocks by score, block gathers.
    return bert(size, T.MraModel, T.MraConfig, positions=514, block_per_row=2,
                approx_mode="full")


def umt5_encoder(size="small"):
    # A relative position bias of its own in every layer.
    return t5_encoder(size, T.UMT5EncoderModel, T.UMT5Config)


def pegasus_encoder(size="small"):
    # Sinusoidal position embeddings (a frozen table), pre-norm layers.
    return bart_encoder(size, T.PegasusModel, T.PegasusConfig)


def speech2text_encoder(size="small"):
    # Strided conv1d subsampling with GLU over filter-bank features.
    d, heads, layers, ffn = _text(size, 256)
    mels, frames = (16, 16) if size == "small" else (80, 256)
    cfg = T.Speech2TextConfig(vocab_size=VOCAB, d_model=d, encoder_layers=layers,
                              decoder_layers=layers, encoder_attention_heads=heads,
                              decoder_attention_heads=heads, encoder_ffn_dim=ffn,
                              decoder_ffn_dim=ffn, input_feat_per_channel=mels,
                              max_source_positions=frames, conv_channels=2 * d)
    feats = torch.randn(1, frames, mels, generator=torch.Generator().manual_seed(0))
    return reinit(T.Speech2TextModel(cfg).get_encoder()), (feats,)


def hubert(size="small"):
    # wav2vec2's feature extractor and positional conv, without quantization.
    model, wave = wav2vec2(size)
    cfg = T.HubertConfig(**{k: getattr(model.config, k) for k in (
        "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "conv_dim",
        "conv_stride", "conv_kernel", "num_conv_pos_embeddings", "num_conv_pos_embedding_groups")})
    return reinit(T.HubertModel(cfg)), wave


def swinv2(size="small"):
    # Cosine attention with a learned logit scale, a continuous position-bias MLP.
    cfg = T.Swinv2Config(image_size=IMAGE[size], patch_size=4, embed_dim=16, depths=[1, 1],
                         num_heads=[2, 4], window_size=4) if size == "small" \
        else T.Swinv2Config(image_size=IMAGE[size])
    return reinit(T.Swinv2Model(cfg)), _image(size)


def data2vec_vision(size="small"):
    return _vit_like(size, T.Data2VecVisionModel, T.Data2VecVisionConfig,
                     use_relative_position_bias=True)


def dinov2_registers(size="small"):
    # Register tokens beside the class token.
    return _vit_like(size, T.Dinov2WithRegistersModel, T.Dinov2WithRegistersConfig,
                     num_register_tokens=2)


def timesformer(size="small"):
    # Video: divided space-time attention over 2 frames.
    d, heads, layers, ffn = _text(size, 256)
    cfg = T.TimesformerConfig(image_size=IMAGE[size], patch_size=8 if size == "small" else 16,
                              num_frames=2, hidden_size=d, num_hidden_layers=layers,
                              num_attention_heads=heads, intermediate_size=ffn)
    s = IMAGE[size]
    return reinit(T.TimesformerModel(cfg)), (torch.randn(1, 2, 3, s, s,
                                                         generator=torch.Generator().manual_seed(0)),)


def mobilevit_v2(size="small"):
    # Separable self-attention (softmax over a single context score per patch).
    cfg = T.MobileViTV2Config(image_size=64, width_multiplier=0.25) if size == "small" \
        else T.MobileViTV2Config(image_size=IMAGE[size])
    image = torch.randn(1, 3, cfg.image_size, cfg.image_size,
                        generator=torch.Generator().manual_seed(0))
    return reinit(T.MobileViTV2Model(cfg)), (image,)


def hiera(size="small"):
    # Mask-unit attention, query pooling, unroll/reroll of the token order.
    cfg = T.HieraConfig(image_size=[IMAGE[size]] * 2, patch_size=[3, 3], patch_stride=[2, 2],
                        patch_padding=[1, 1], embed_dim=16, num_heads=[1, 2], depths=[1, 1],
                        num_query_pool=1, query_stride=[2, 2], masked_unit_size=[4, 4],
                        masked_unit_attention=[True, False]) if size == "small" \
        else T.HieraConfig(image_size=[IMAGE[size]] * 2)
    return reinit(T.HieraModel(cfg)), _image(size)


def yoso(size="small"):
    # LSH attention in expectation: 1 - acos(cosine) / pi, raised to a power.
    return bert(size, T.YosoModel, T.YosoConfig, use_expectation=True)


OTHER_FAMILIES = {
    # vision
    "vit": vit, "beit": beit, "dinov2": dinov2, "swin": swin, "convnext": convnext,
    "convnextv2": convnextv2, "regnet": regnet, "efficientnet": efficientnet,
    "poolformer": poolformer,
    # encoders
    "distilbert": distilbert, "roberta": roberta, "albert": albert, "electra": electra,
    "deberta_v2": deberta_v2, "t5_encoder": t5_encoder, "bart_encoder": bart_encoder,
    "whisper_encoder": whisper_encoder, "wav2vec2": wav2vec2,
    # decoder-only
    "mistral": mistral, "qwen2": qwen2, "phi": phi, "gemma": gemma, "opt": opt,
    "gpt_neo": gpt_neo, "gptj": gptj, "bloom": bloom, "falcon": falcon, "mamba": mamba,
    "rwkv": rwkv, "ctrl": ctrl, "gpt_bigcode": gpt_bigcode, "stablelm": stablelm,
    "codegen": codegen, "biogpt": biogpt, "xglm": xglm,
    # more encoders and vision models
    "mpnet": mpnet, "squeezebert": squeezebert, "funnel": funnel, "xlnet": xlnet,
    "canine": canine, "mbart_encoder": mbart_encoder, "deit": deit, "mobilevit": mobilevit,
    "segformer": segformer, "levit": levit,
    # decoder LMs returning their KV cache, more encoders and vision models
    "olmo": olmo, "qwen3": qwen3, "granite": granite, "cohere": cohere, "gemma2": gemma2,
    "starcoder2": starcoder2, "gpt_neox": gpt_neox, "mobilebert": mobilebert,
    "convbert": convbert, "megatron_bert": megatron_bert, "layoutlm": layoutlm, "ibert": ibert,
    "data2vec_text": data2vec_text, "esm": esm, "clip_text": clip_text, "clip_vision": clip_vision,
    "siglip_vision": siglip_vision, "dpt": dpt, "yolos": yolos, "focalnet": focalnet,
    "pvt": pvt, "glpn": glpn, "mobilenet_v1": mobilenet_v1,
    # mixture of experts, axial positions, random masking with the noise an input
    "mixtral": mixtral, "persimmon": persimmon, "reformer": reformer, "vit_mae": vit_mae,
    # complex numbers, scans and hybrids, more decoder LMs, encoders and vision models
    "fnet": fnet, "llama4": llama4, "qwen2_moe": qwen2_moe, "jamba": jamba, "mamba2": mamba2,
    "recurrent_gemma": recurrent_gemma, "lfm2": lfm2, "phi3": phi3, "olmo2": olmo2,
    "gemma3": gemma3, "cohere2": cohere2, "nemotron": nemotron, "mpt": mpt, "roformer": roformer,
    "rembert": rembert, "luke": luke, "mra": mra, "umt5_encoder": umt5_encoder,
    "pegasus_encoder": pegasus_encoder, "speech2text_encoder": speech2text_encoder,
    "hubert": hubert, "swinv2": swinv2, "data2vec_vision": data2vec_vision,
    "dinov2_registers": dinov2_registers, "timesformer": timesformer,
    "mobilevit_v2": mobilevit_v2, "hiera": hiera, "yoso": yoso,
}


def model(name, size="small"):
    """(model in eval mode, example inputs) of family `name` at `size`."""
    return {**FAMILIES, **OTHER_FAMILIES}[name](size)


def zoo(size="bench", names=None):
    """{name: (factory, make_inputs)} in the form benchmarks/torch_models.py takes."""
    def entry(name):
        built = {}

        def get():
            if not built:
                built["pair"] = model(name, size)
            return built["pair"]
        return (lambda: get()[0]), (lambda: get()[1])
    return {n: entry(n) for n in (names or {**FAMILIES, **OTHER_FAMILIES})}
