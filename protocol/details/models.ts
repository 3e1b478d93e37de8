/** A model loaded in (or served by) a server, with its own numbers where the server gives them per model. */
export interface LoadedModel {
  name: string;
  sizeBytes: number | null;
  vramBytes: number | null;
  /** Epoch ms when the server unloads it (Ollama keep-alive). */
  expiresAt: number | null;
  /** Ollama details, e.g. "8.0B", "Q4_K_M", "llama". */
  parameterSize?: string | null;
  quantization?: string | null;
  family?: string | null;
  /** vLLM per `model_name`; Triton per model (pending requests as waiting). */
  requestsRunning?: number | null;
  requestsWaiting?: number | null;
  kvCacheUsageRatio?: number | null;
  promptTokensPerSecond?: number | null;
  generationTokensPerSecond?: number | null;
  requestLatencyP95Seconds?: number | null;
  ttftP95Seconds?: number | null;
  /** Triton: inferences per second and mean queue / compute time per request over the window. */
  inferencesPerSecond?: number | null;
  queueLatencySeconds?: number | null;
  computeLatencySeconds?: number | null;
}

/** One llama.cpp slot (`/slots`). */
export interface ModelSlot {
  id: number;
  busy: boolean;
  /** Context size of the slot in tokens. */
  contextTokens: number | null;
  /** Tokens generated for the current task. */
  decodedTokens: number | null;
}

/** One model-server endpoint. */
export interface ModelServer {
  name: string;
  url: string;
  kind: 'llamacpp' | 'vllm' | 'ollama' | 'triton' | 'health';
  up: boolean;
  error: string | null;
  models: LoadedModel[];
  /** VRAM attribution: which GPU processes belong to this server, or why it cannot be joined. */
  vram: { gpuIndex: number; bytes: number; pid: number }[] | null;
  vramNote: string | null;
  /** Display text of the attribution, e.g. "VRAM 14.2 GB on GPU 0"; null when not joined. */
  vramSummary?: string | null;
  /** Server version where it says (Ollama, Triton, llama.cpp build). */
  version?: string | null;
  /** Health/status text the server gave ("ok", "loading model", HTTP 200…). */
  status?: string | null;
  /** Response time of the main endpoint this tick. */
  latencySeconds?: number | null;
  /** llama.cpp slots. */
  slots?: ModelSlot[] | null;
  /** Process ids found for the server (listening process and its children), when local. */
  pids?: number[] | null;
  /** True when the endpoint was found by auto-discovery rather than configured. */
  discovered?: boolean;
}

/** Model-server source details (one server per source `models.<name>`). */
export interface ModelsDetails {
  kind: 'models';
  servers: ModelServer[];
}
