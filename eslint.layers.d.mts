export declare const LAYERS: string[][];
export declare function layerZones(): Array<{ target: string; from: string[]; message: string }>;
