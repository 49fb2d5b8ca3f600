import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** An error answered by mlnb's server API (status 0: the server could not be reached). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
  }

  /** True when the server has no mlnb API at all (server extension missing or disabled). */
  get missing(): boolean {
    return this.status === 404;
  }
}

/** Call `GET|POST /mlnb/api/<endPoint>` on the Jupyter server and parse the JSON reply. */
export async function requestAPI<T>(endPoint: string, init: RequestInit = {}): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'mlnb', 'api', endPoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ApiError(`the Jupyter server could not be reached (${String(error)})`, 0);
  }
  const text = await response.text();
  let data: any = text;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      // keep the raw text
    }
  }
  if (!response.ok) {
    const message = typeof data === 'object' && data?.message ? data.message : response.statusText;
    throw new ApiError(String(message), response.status);
  }
  return data as T;
}
