// The entity of the README examples: the account of the repository README's quickstart.
export { account } from "../../../../test/readme-quickstart.js";
