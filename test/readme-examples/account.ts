// The adapter READMEs' examples import the entity of the repository README's quickstart from here.
export { account } from "../readme-quickstart.js";
