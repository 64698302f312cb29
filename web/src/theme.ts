import type { ThemeConfig } from "antd";
import "./a11y.css";

// Ant Design's theme with text colours that read at 4.5:1 or better on white and on the light
// fills: placeholders, grey labels and descriptions, the selected menu item (axe-core's
// color-contrast rule; web/src/a11y.css does the same for coloured tags).
export const theme: ThemeConfig = {
  token: {
    colorPrimary: "#d4380d",
    colorLink: "#0958d9",
    colorTextPlaceholder: "#6e6e6e",
    colorTextSecondary: "#4f4f4f",
    colorTextTertiary: "#595959",
    colorTextDescription: "#595959",
    colorTextQuaternary: "#6e6e6e",
  },
  components: {
    Menu: { itemSelectedColor: "#ad2102" },
    Tabs: { itemSelectedColor: "#ad2102", itemActiveColor: "#ad2102" },
  },
};
