// Prints src/formats/onnx/onnx-descriptor.ts: npx vite-node test/helpers/print-onnx-descriptor.ts > src/formats/onnx/onnx-descriptor.ts
import { onnxDescriptorModule } from './onnx-descriptor-source.js';

process.stdout.write(onnxDescriptorModule());
