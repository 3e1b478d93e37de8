/** A model loaded in a server. */
export interface LoadedModel {
  name: string;
  sizeBytes: number | null;
  vramBytes: number | null;
  expiresAt: number | null;
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
}

/** Model-server source details. */
export interface ModelsDetails {
  kind: 'models';
  servers: ModelServer[];
}
