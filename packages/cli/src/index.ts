export { loadYamlConfig } from "./config/index.js";
